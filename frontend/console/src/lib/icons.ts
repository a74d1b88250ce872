// The Element Plus icons the server's menus name (security/menus.py), imported one by one
// so that the bundle carries only these; an unknown name falls back to a plain menu icon.
import {
  Bell,
  Checked,
  CircleClose,
  Coin,
  CreditCard,
  Document,
  Goods,
  Key,
  List,
  Lock,
  Menu as MenuIcon,
  Message,
  Odometer,
  Operation,
  Promotion,
  Setting,
  Stamp,
  Tickets,
  Timer,
  Tools,
  User,
  UserFilled,
  Wallet,
  Warning,
} from "@element-plus/icons-vue";
import type { Component } from "vue";

const ICONS: Record<string, Component> = {
  Bell,
  Checked,
  CircleClose,
  Coin,
  CreditCard,
  Document,
  Goods,
  Key,
  List,
  Lock,
  Message,
  Odometer,
  Operation,
  Promotion,
  Setting,
  Stamp,
  Tickets,
  Timer,
  Tools,
  User,
  UserFilled,
  Wallet,
  Warning,
};

export function menuIcon(name: string | null | undefined): Component {
  return (name && ICONS[name]) || MenuIcon;
}
