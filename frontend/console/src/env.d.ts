/// <reference types="vite/client" />
declare module "*.vue" {
  import type { DefineComponent } from "vue";
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

export {};
declare module "vue" {
  interface ComponentCustomProperties {
    /** The signed-in member holds this permission (for showing an action's button; the
     * server checks again). */
    $can: (permission: string) => boolean;
    /** The member's menus open this console path (for links to other pages). */
    $opens: (path: string) => boolean;
    /** Yuan with thousands separators and two decimals. */
    $money: (value: string | number | null | undefined) => string;
  }
}
