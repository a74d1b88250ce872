// The collections pages' words (i18n/coll.ts), merged into the console's messages under
// `coll` by the first collections page opened: they are not part of the first load.
import { i18n } from "@/i18n";
import { collEn, collZh } from "@/i18n/coll";

i18n.global.mergeLocaleMessage("zh-CN", { coll: collZh });
i18n.global.mergeLocaleMessage("en", { coll: collEn });

export const COLL_MESSAGES = { "zh-CN": collZh, en: collEn };
