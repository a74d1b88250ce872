// A JDM decision graph (GoRules: nodes and edges) read for drawing: each node's depth (the
// longest path to it from a node without inputs, so the flow reads left to right), its place
// in its column, and the content of each node type as tables (a decision table's rules, an
// expression node's expressions, a switch's statements) or text (a function's source).

export interface JdmNode {
  id: string;
  type: string;
  name: string;
  content?: unknown;
}
export interface JdmEdge {
  id?: string;
  sourceId: string;
  targetId: string;
}
export interface JdmGraph {
  nodes: JdmNode[];
  edges: JdmEdge[];
}

/** The node types of JDM, in the legend's order, each with its colour and ECharts symbol. */
export const NODE_TYPES = [
  { type: "inputNode", color: "#67c23a", symbol: "roundRect" },
  { type: "decisionTableNode", color: "#409eff", symbol: "rect" },
  { type: "expressionNode", color: "#e6a23c", symbol: "diamond" },
  { type: "switchNode", color: "#f56c6c", symbol: "triangle" },
  { type: "functionNode", color: "#9b59b6", symbol: "circle" },
  { type: "decisionNode", color: "#1abc9c", symbol: "pin" },
  { type: "outputNode", color: "#606266", symbol: "roundRect" },
] as const;
const OTHER = { type: "other", color: "#909399", symbol: "circle" } as const;

export function nodeStyle(type: string): { type: string; color: string; symbol: string } {
  return NODE_TYPES.find((t) => t.type === type) ?? OTHER;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

/** The graph of a strategy version as the API answers it (`graph`), with edges given by
 *  sourceId/targetId (JDM) or source/target; nodes without an id are left out. */
export function readGraph(raw: unknown): JdmGraph {
  const g = (raw ?? {}) as { nodes?: unknown[]; edges?: unknown[] };
  const nodes: JdmNode[] = [];
  for (const item of g.nodes ?? []) {
    const n = (item ?? {}) as Record<string, unknown>;
    if (!text(n.id)) continue;
    nodes.push({ id: text(n.id), type: text(n.type), name: text(n.name) || text(n.id), content: n.content });
  }
  const known = new Set(nodes.map((n) => n.id));
  const edges: JdmEdge[] = [];
  for (const item of g.edges ?? []) {
    const e = (item ?? {}) as Record<string, unknown>;
    const sourceId = text(e.sourceId ?? e.source);
    const targetId = text(e.targetId ?? e.target);
    if (known.has(sourceId) && known.has(targetId)) edges.push({ id: text(e.id) || undefined, sourceId, targetId });
  }
  return { nodes, edges };
}

/** Each node's depth: 0 for a node nothing leads to, else one more than its deepest
 *  predecessor. A cycle (not a valid JDM graph) does not hang: its nodes keep the depth
 *  reached when the walk stopped. */
export function depths(graph: JdmGraph): Map<string, number> {
  const incoming = new Map<string, number>(graph.nodes.map((n) => [n.id, 0]));
  const next = new Map<string, string[]>(graph.nodes.map((n) => [n.id, []]));
  for (const e of graph.edges) {
    incoming.set(e.targetId, (incoming.get(e.targetId) ?? 0) + 1);
    next.get(e.sourceId)?.push(e.targetId);
  }
  const depth = new Map<string, number>(graph.nodes.map((n) => [n.id, 0]));
  const ready = graph.nodes.filter((n) => incoming.get(n.id) === 0).map((n) => n.id);
  while (ready.length) {
    const id = ready.shift()!;
    for (const target of next.get(id) ?? []) {
      depth.set(target, Math.max(depth.get(target) ?? 0, (depth.get(id) ?? 0) + 1));
      const left = (incoming.get(target) ?? 1) - 1;
      incoming.set(target, left);
      if (left === 0) ready.push(target);
    }
  }
  return depth;
}

export interface Placed extends JdmNode {
  depth: number;
  x: number;
  y: number;
}

/** Nodes placed in columns by depth (`dx` apart), each column's nodes `dy` apart and
 *  centred on the same middle line, in the graph's order within a column. */
export function layout(graph: JdmGraph, dx = 200, dy = 90): Placed[] {
  const depth = depths(graph);
  const columns = new Map<number, JdmNode[]>();
  for (const n of graph.nodes) {
    const d = depth.get(n.id) ?? 0;
    columns.set(d, [...(columns.get(d) ?? []), n]);
  }
  const placed: Placed[] = [];
  for (const [d, column] of columns) {
    column.forEach((n, i) => placed.push({ ...n, depth: d, x: d * dx, y: (i - (column.length - 1) / 2) * dy }));
  }
  return placed;
}

export interface Table {
  columns: Array<{ prop: string; label: string; group?: "input" | "output" }>;
  rows: Array<Record<string, string>>;
}

/** What a node holds, to show: a table (decision table, expressions, switch statements),
 *  source text (a function), or nothing beyond its name (input and output nodes). */
export type Content =
  | { kind: "table"; table: Table; hitPolicy?: string; outputPath?: string }
  | { kind: "source"; source: string }
  | { kind: "reference"; key: string }
  | { kind: "none" };

export function nodeContent(node: JdmNode): Content {
  const c = (node.content ?? {}) as Record<string, unknown>;
  if (node.type === "decisionTableNode") {
    const inputs = (Array.isArray(c.inputs) ? c.inputs : []) as Array<Record<string, unknown>>;
    const outputs = (Array.isArray(c.outputs) ? c.outputs : []) as Array<Record<string, unknown>>;
    const columns = [
      ...inputs.map((i) => ({ prop: text(i.id), label: text(i.field) || text(i.name), group: "input" as const })),
      ...outputs.map((o) => ({ prop: text(o.id), label: text(o.field) || text(o.name), group: "output" as const })),
    ];
    const rules = (Array.isArray(c.rules) ? c.rules : []) as Array<Record<string, unknown>>;
    const rows = rules.map((rule) => Object.fromEntries(columns.map((col) => [col.prop, text(rule[col.prop])])));
    return { kind: "table", table: { columns, rows }, hitPolicy: text(c.hitPolicy) || undefined, outputPath: text(c.outputPath) || undefined };
  }
  if (node.type === "expressionNode") {
    const expressions = (Array.isArray(c.expressions) ? c.expressions : []) as Array<Record<string, unknown>>;
    return {
      kind: "table",
      table: {
        columns: [
          { prop: "key", label: "key" },
          { prop: "value", label: "expression" },
        ],
        rows: expressions.map((e) => ({ key: text(e.key), value: text(e.value) })),
      },
    };
  }
  if (node.type === "switchNode") {
    const statements = (Array.isArray(c.statements) ? c.statements : []) as Array<Record<string, unknown>>;
    return {
      kind: "table",
      table: { columns: [{ prop: "condition", label: "condition" }], rows: statements.map((s) => ({ condition: text(s.condition) || "(else)" })) },
      hitPolicy: text(c.hitPolicy) || undefined,
    };
  }
  if (node.type === "functionNode") {
    const source = typeof node.content === "string" ? node.content : text(c.source);
    return { kind: "source", source };
  }
  if (node.type === "decisionNode") return { kind: "reference", key: text(c.key) };
  return { kind: "none" };
}
