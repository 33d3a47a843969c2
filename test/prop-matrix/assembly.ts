/**
 * Every prop of the public API, read from the jsii assembly the build writes (`.jsii`): each
 * construct's props, each static factory's and public method's parameters, and the props of the
 * structs they take (nested structs and lists of structs included, inherited props too).
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const ASSEMBLY = path.join(ROOT, '.jsii');

/** A jsii type reference. */
export interface TypeRef {
  readonly primitive?: string;
  readonly fqn?: string;
  readonly collection?: { readonly kind: 'array' | 'map'; readonly elementtype: TypeRef };
  readonly union?: { readonly types: TypeRef[] };
}

/** One prop: the callable that takes it, its path within the callable's arguments, its type. */
export interface Prop {
  /** `<Class>` for a constructor, `<Class>.<method>` for a static or instance method. */
  readonly callable: string;
  /** `amiName`, `distribution.regions`, `replicateTo[].region`, or a parameter's name. */
  readonly path: string;
  readonly type: TypeRef;
  /** The table's key: `<callable>.<path>`. */
  readonly key: string;
}

export interface Callable {
  readonly name: string;
  readonly kind: 'constructor' | 'static' | 'method';
}

interface JsiiType {
  readonly kind: string;
  readonly name: string;
  readonly datatype?: boolean;
  readonly abstract?: boolean;
  readonly interfaces?: string[];
  readonly properties?: Array<{ name: string; type: TypeRef; static?: boolean }>;
  readonly initializer?: { protected?: boolean; parameters?: Array<{ name: string; type: TypeRef }> };
  readonly methods?: Array<{ name: string; static?: boolean; protected?: boolean; parameters?: Array<{ name: string; type: TypeRef }> }>;
}

/** The newest source file's modification time, to tell a stale assembly. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** The assembly's types; fails when the build has not written it, or wrote it before the sources last changed. */
export function readAssembly(): { [fqn: string]: JsiiType } {
  if (!fs.existsSync(ASSEMBLY)) {
    throw new Error(`${ASSEMBLY} does not exist: the prop matrix reads the jsii assembly the build writes. Run 'npx projen compile' (or 'npx projen build'), then the test.`);
  }
  if (fs.statSync(ASSEMBLY).mtimeMs < newestSource(path.join(ROOT, 'src'))) {
    throw new Error(`${ASSEMBLY} is older than a file of src/: a prop added since would be missed. Run 'npx projen compile', then the test.`);
  }
  return JSON.parse(fs.readFileSync(ASSEMBLY, 'utf8')).types;
}

/** Every prop of every construct, factory and method, with the callables that take them. */
export interface PublicProps {
  readonly props: Prop[];
  readonly callables: Callable[];
  readonly constructs: string[];
  readonly structArrays: string[];
}

export function publicProps(types: { [fqn: string]: JsiiType }): PublicProps {
  const props: Prop[] = [];
  const callables: Callable[] = [];
  const constructs: string[] = [];
  const structArrays: string[] = [];
  const isStruct = (t: TypeRef) => t.fqn !== undefined && types[t.fqn]?.datatype === true;
  const propsOf = (fqn: string): Array<{ name: string; type: TypeRef }> => {
    const own = [...(types[fqn].properties ?? [])];
    for (const parent of types[fqn].interfaces ?? []) {
      if (types[parent]) for (const p of propsOf(parent)) if (!own.some((o) => o.name === p.name)) own.push(p);
    }
    return own;
  };
  const walk = (callable: string, prefix: string, type: TypeRef) => {
    if (isStruct(type)) {
      for (const p of propsOf(type.fqn!)) walk(callable, prefix ? `${prefix}.${p.name}` : p.name, p.type);
      return;
    }
    const element = type.collection?.elementtype;
    if (type.collection?.kind === 'array' && element && isStruct(element)) {
      structArrays.push(`${callable}.${prefix}`);
      for (const p of propsOf(element.fqn!)) walk(callable, `${prefix}[].${p.name}`, p.type);
      return;
    }
    props.push({ callable, path: prefix, type, key: `${callable}.${prefix}` });
  };
  const parameters = (callable: string, kind: Callable['kind'], params: Array<{ name: string; type: TypeRef }>) => {
    callables.push({ name: callable, kind });
    for (const p of params) {
      // A construct's scope and id follow the constructs library's rules, not this library's.
      if (p.name === 'scope' || p.name === 'id') continue;
      walk(callable, isStruct(p.type) ? '' : p.name, p.type);
    }
  };
  for (const t of Object.values(types)) {
    if (t.kind !== 'class') continue;
    if (t.initializer && !t.abstract && !t.initializer.protected) {
      const params = t.initializer.parameters ?? [];
      if (params[0]?.name === 'scope') constructs.push(t.name);
      parameters(t.name, 'constructor', params);
    }
    for (const m of t.methods ?? []) {
      if (m.protected) continue;
      parameters(`${t.name}.${m.name}`, m.static ? 'static' : 'method', m.parameters ?? []);
    }
  }
  return { props, callables, constructs, structArrays };
}

/** A type as a person reads it. */
export function typeName(type: TypeRef): string {
  if (type.primitive) return type.primitive;
  if (type.fqn) return type.fqn.replace(/^aws-cdk-lib\./, '').replace(/^cdk-immutable-deploys\./, '');
  if (type.collection) return `${type.collection.kind === 'array' ? 'list' : 'map'} of ${typeName(type.collection.elementtype)}`;
  return 'union';
}
