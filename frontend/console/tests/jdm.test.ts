import { flushPromises, mount } from "@vue/test-utils";
import ElementPlus from "element-plus";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, test } from "vitest";
import DecisionGraph from "@/components/DecisionGraph.vue";
import { i18n } from "@/i18n";
import { depths, layout, nodeContent, readGraph } from "@/lib/jdm";
import { usePrefs } from "@/stores/prefs";

// a diamond with a tail: in → (table, expr) → fn → out
const GRAPH = {
  nodes: [
    { id: "in", type: "inputNode", name: "申请" },
    {
      id: "table",
      type: "decisionTableNode",
      name: "准入",
      content: {
        hitPolicy: "collect",
        outputPath: "hits",
        inputs: [{ id: "i_age", name: "age", field: "age" }],
        outputs: [{ id: "o_code", name: "code", field: "code" }],
        rules: [
          { _id: "r1", i_age: "< 18", o_code: '"AGE"' },
          { _id: "r2", i_age: "", o_code: '"ANY"' },
        ],
      },
    },
    { id: "expr", type: "expressionNode", name: "结论", content: { expressions: [{ id: "e1", key: "ok", value: "len(hits) == 0" }] } },
    { id: "fn", type: "functionNode", name: "函数", content: { source: "export const handler = async (input) => input;" } },
    { id: "out", type: "outputNode", name: "结果" },
  ],
  edges: [
    { id: "1", sourceId: "in", targetId: "table" },
    { id: "2", sourceId: "in", targetId: "expr" },
    { id: "3", sourceId: "table", targetId: "fn" },
    { id: "4", sourceId: "expr", targetId: "fn" },
    { id: "5", sourceId: "fn", targetId: "out" },
    { id: "6", sourceId: "in", targetId: "out" },
    { id: "7", sourceId: "in", targetId: "nowhere" },
  ],
};

describe("jdm", () => {
  test("depth is the longest path from the inputs; edges to unknown nodes are dropped", () => {
    const g = readGraph(GRAPH);
    expect(g.edges).toHaveLength(6);
    expect(Object.fromEntries(depths(g))).toEqual({ in: 0, table: 1, expr: 1, fn: 2, out: 3 });
  });

  test("columns left to right, a column's nodes centred on one line", () => {
    const placed = Object.fromEntries(layout(readGraph(GRAPH), 200, 100).map((n) => [n.id, [n.x, n.y]]));
    expect(placed).toEqual({ in: [0, 0], table: [200, -50], expr: [200, 50], fn: [400, 0], out: [600, 0] });
  });

  test("edges as the API's view gives them (source/target), and a cycle does not hang", () => {
    const g = readGraph({ nodes: [{ id: "a" }, { id: "b" }, { id: "c" }], edges: [{ source: "a", target: "b" }, { source: "b", target: "c" }, { source: "c", target: "b" }] });
    expect(g.edges).toHaveLength(3);
    expect(depths(g).get("a")).toBe(0);
  });

  test("a node's content: the decision table's rules, expressions, a function's source", () => {
    const g = readGraph(GRAPH);
    const table = nodeContent(g.nodes[1]);
    expect(table).toMatchObject({ kind: "table", hitPolicy: "collect", outputPath: "hits" });
    if (table.kind !== "table") throw new Error("not a table");
    expect(table.table.columns.map((c) => [c.label, c.group])).toEqual([["age", "input"], ["code", "output"]]);
    expect(table.table.rows).toEqual([{ i_age: "< 18", o_code: '"AGE"' }, { i_age: "", o_code: '"ANY"' }]);
    const expr = nodeContent(g.nodes[2]);
    if (expr.kind !== "table") throw new Error("not a table");
    expect(expr.table.rows).toEqual([{ key: "ok", value: "len(hits) == 0" }]);
    expect(nodeContent(g.nodes[3])).toEqual({ kind: "source", source: "export const handler = async (input) => input;" });
    expect(nodeContent({ id: "f", type: "functionNode", name: "f", content: "return 1" })).toEqual({ kind: "source", source: "return 1" });
    expect(nodeContent(g.nodes[0])).toEqual({ kind: "none" });
  });
});

describe("DecisionGraph", () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    usePrefs().setLocale("zh-CN");
  });

  test("the table view lists every node with its type and links; a row shows its content", async () => {
    const wrapper = mount(DecisionGraph, { props: { graph: GRAPH }, global: { plugins: [ElementPlus, i18n], stubs: { Echarts: true } } });
    await flushPromises();
    const table = wrapper.find('[data-test="graph-table"]');
    expect(table.text()).toContain("决策表");
    expect(table.text()).toContain("准入");
    expect(wrapper.find('[data-test="node-panel"]').text()).toContain("点击图中的节点");
    (wrapper.vm as unknown as { select: (id: string) => void }).select("table");
    await flushPromises();
    const panel = wrapper.find('[data-test="node-panel"]');
    expect(panel.find('[data-test="node-name"]').text()).toBe("准入");
    expect(panel.text()).toContain("collect");
    expect(panel.find('[data-test="node-rules"]').text()).toContain("< 18");
    (wrapper.vm as unknown as { select: (id: string) => void }).select("fn");
    await flushPromises();
    expect(wrapper.find('[data-test="node-source"]').text()).toContain("export const handler");
  });
});
