// A minimal protobuf encoder for the subset of onnx.proto the graph builder emits. Field numbers are
// those of onnx/onnx.proto (IR version 9). Weights never pass through here: they live in an external
// data file and tensors only carry its location, offset and length.

export const enum DataType {
  FLOAT = 1,
  UINT8 = 2,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
  FLOAT16 = 10,
  BFLOAT16 = 16,
}

export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: DataType;
  shape: Dim[];
}

export type AttributeValue = number | string | number[] | { ints: number[] } | { floats: number[] } | { float: number };

export interface NodeDef {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface TensorDef {
  name: string;
  elemType: DataType;
  dims: number[];
  /** Small constants inline. */
  raw?: Uint8Array;
  /** Large weights: a region of the external data file. */
  external?: { location: string; offset: number; length: number };
}

export interface GraphDef {
  name: string;
  nodes: NodeDef[];
  initializers: TensorDef[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface ModelDef {
  graph: GraphDef;
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
}

class Writer {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.push(Uint8Array.from(bytes));
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.push(data);
  }

  string(field: number, value: string): void {
    this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: Writer) => void): void {
    const inner = new Writer();
    build(inner);
    this.bytes(field, inner.finish());
  }

  float(field: number, value: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

function writeAttribute(w: Writer, name: string, value: AttributeValue): void {
  w.string(1, name);
  if (typeof value === 'string') {
    w.int(20, ATTR_STRING);
    w.string(4, value);
  } else if (typeof value === 'number') {
    w.int(20, ATTR_INT);
    w.int(3, value);
  } else if (Array.isArray(value) || 'ints' in value) {
    const ints = Array.isArray(value) ? value : value.ints;
    w.int(20, ATTR_INTS);
    for (const i of ints) w.int(8, i);
  } else if ('floats' in value) {
    w.int(20, ATTR_FLOATS);
    for (const f of value.floats) w.float(7, f);
  } else {
    w.int(20, ATTR_FLOAT);
    w.float(2, value.float);
  }
}

function writeValueInfo(w: Writer, info: ValueInfo): void {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, info.elemType);
      tensor.message(2, (shape) => {
        for (const d of info.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function writeTensor(w: Writer, t: TensorDef): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.elemType);
  w.string(8, t.name);
  if (t.raw) w.bytes(9, t.raw);
  if (t.external) {
    const entries: [string, string][] = [
      ['location', t.external.location],
      ['offset', String(t.external.offset)],
      ['length', String(t.external.length)],
    ];
    for (const [key, value] of entries) {
      w.message(13, (e) => {
        e.string(1, key);
        e.string(2, value);
      });
    }
    w.int(14, 1);
  }
}

export function encodeModel(model: ModelDef): Uint8Array {
  const w = new Writer();
  w.int(1, 9); // ir_version
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  w.message(7, (g) => {
    for (const node of model.graph.nodes) {
      g.message(1, (n) => {
        for (const i of node.inputs) n.string(1, i);
        for (const o of node.outputs) n.string(2, o);
        n.string(3, node.name);
        n.string(4, node.opType);
        for (const [name, value] of Object.entries(node.attributes ?? {})) n.message(5, (a) => writeAttribute(a, name, value));
        if (node.domain) n.string(7, node.domain);
      });
    }
    g.string(2, model.graph.name);
    for (const t of model.graph.initializers) g.message(5, (tw) => writeTensor(tw, t));
    for (const i of model.graph.inputs) g.message(11, (vw) => writeValueInfo(vw, i));
    for (const o of model.graph.outputs) g.message(12, (vw) => writeValueInfo(vw, o));
  });
  for (const opset of model.opsets) {
    w.message(8, (o) => {
      if (opset.domain) o.string(1, opset.domain);
      o.int(2, opset.version);
    });
  }
  return w.finish();
}
