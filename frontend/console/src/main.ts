import { createPinia } from "pinia";
import { createApp } from "vue";
import { formatMoney } from "@shared/format";
import App from "./App.vue";
import { i18n } from "./i18n";
import { router } from "./router";
import { useAuth } from "./stores/auth";
import { useMenus } from "./stores/menu";
import "./styles/base.css";

const app = createApp(App);
app.use(createPinia());
app.use(i18n);
app.use(router);
app.config.globalProperties.$can = (permission: string) => useAuth().can(permission);
app.config.globalProperties.$money = (value: string | number | null | undefined) => formatMoney(value);
app.config.globalProperties.$opens = (path: string) => useMenus().allows(path);
app.mount("#app");
