// Data types and devices, with libtorch's ScalarType codes.

/** The element types genlab's tensors hold, by PyTorch's names. */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'bool';

/** c10::ScalarType enum values. */
const codes: Record<DType, number> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};

const names: DType[] = [];
for (const [name, code] of Object.entries(codes)) names[code] = name as DType;

const aliases: Record<string, DType> = {
  float: 'float32',
  double: 'float64',
  half: 'float16',
  long: 'int64',
  int: 'int32',
};

export function dtypeCode(d: DType | string): number {
  const code = codes[(aliases[d] ?? d) as DType];
  if (code === undefined) throw new Error(`unknown dtype '${d}'; expected one of ${Object.keys(codes).join(', ')}`);
  return code;
}

export function dtypeName(code: number): DType {
  const name = names[code];
  if (!name) throw new Error(`unsupported libtorch ScalarType ${code}`);
  return name;
}

/** Whether the dtype is a floating-point type (float16, bfloat16, float32 or float64). */
export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

export const bytesPerElement: Record<DType, number> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  float16: 2,
  float32: 4,
  float64: 8,
  bool: 1,
  bfloat16: 2,
};

/** The typed arrays tensors are read from and written to (Uint16Array holds float16 or bfloat16 bits). */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array;

/** The dtype a typed array holds by default. */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  throw new Error('Uint16Array data needs an explicit dtype (float16 or bfloat16)');
}

/** Views raw bytes as the typed array matching a dtype; 16-bit floats come back as raw Uint16 bits. */
export function viewBytes(buf: ArrayBuffer, d: DType): TypedArray {
  switch (d) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buf);
  }
}

/** Where a tensor lives: 'cpu', 'cuda' or 'cuda:N'. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}` | (string & {});

/** How a tensor's elements are laid out in storage: row-major, as the input, or channels last. */
export type MemoryFormat = 'contiguous' | 'preserve' | 'channelsLast' | 'channelsLast3d';
const memoryFormats: Record<MemoryFormat, number> = { contiguous: 0, preserve: 1, channelsLast: 2, channelsLast3d: 3 };

export function memoryFormatCode(m: MemoryFormat): number {
  const code = memoryFormats[m];
  if (code === undefined) throw new Error(`unknown memory format '${m}'`);
  return code;
}
