import { createPinia } from "pinia";
import { createApp } from "vue";
import "vant/es/toast/style";
import "vant/es/dialog/style";
import App from "./App.vue";
import { i18n } from "./i18n";
import { router } from "./router";
import { endSessionOn401 } from "./stores/session";
import "./styles.css";

const app = createApp(App);
app.use(createPinia());
app.use(i18n);
app.use(router);
endSessionOn401(() => {
  if (router.currentRoute.value.path !== "/login") router.replace({ path: "/login", query: { redirect: router.currentRoute.value.fullPath } });
});
app.mount("#app");
