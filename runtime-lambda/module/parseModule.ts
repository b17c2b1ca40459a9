import { readFileSync } from 'node:fs';
import { LineCounter, parseAllDocuments } from 'yaml';
import { InvalidInputError } from '../core/errors';
import type { EgressSpec, EndpointSpec, IngressSpec, ModuleSource, StatefunModule } from './model';
import { ModuleNode } from './ModuleNode';
import { ENDPOINT_KINDS, type EndpointKind, parseEndpointSpec } from './parseEndpointSpec';
import { EGRESS_KINDS, type EgressKind, INGRESS_KINDS, type IngressKind, parseEgressSpec, parseIngressSpec } from './parseIoSpec';

const ALL_KINDS: readonly string[] = [...ENDPOINT_KINDS, ...INGRESS_KINDS, ...EGRESS_KINDS];

/** The legacy format's short kinds and what StateFun reads them as (`LegacyRemoteModuleV30`). */
const LEGACY_KINDS: Readonly<Record<string, string>> = {
  http: 'io.statefun.endpoints.v1/http',
  'io.statefun.kafka/ingress': 'io.statefun.kafka.v1/ingress',
  'io.statefun.kafka/egress': 'io.statefun.kafka.v1/egress',
  'io.statefun.kinesis/ingress': 'io.statefun.kinesis.v1/ingress',
  'io.statefun.kinesis/egress': 'io.statefun.kinesis.v1/egress',
};

const EXAMPLE = 'kind: io.statefun.endpoints.v2/http\nspec:\n  functions: example/*\n  urlPathTemplate: http://functions:8000/statefun';

/**
 * Reads a StateFun module.yaml: either format StateFun 3.3 reads,
 *
 * - documents of `kind:` and `spec:`, separated by `---` (one endpoint, ingress or egress each);
 * - the legacy single document `version: "3.0"` with `module.meta.type: remote` and
 *   `module.spec.endpoints`/`ingresses`/`egresses`,
 *
 * into the typed model, StateFun's defaults filled in. Kinds: `io.statefun.endpoints.v2/http`
 * and `v1/http`, `io.statefun.kinesis.v1/ingress` and `/egress`, `io.statefun.kafka.v1/ingress`
 * and `/egress`, `io.statefun.playground.v1/ingress` and `/egress`, and our
 * `com.statefun-aws.endpoints.v1/lambda`. See docs/statefun-compatibility.md, "module.yaml".
 *
 * @param file the name given in errors, e.g. `module.yaml`.
 * @throws {@link InvalidInputError} for YAML that does not parse (naming the file and line), an
 * unknown kind, a missing, unknown or ill-typed field (naming the file, the document and its
 * kind, the field path and what was expected), two endpoints serving the same function type
 * or namespace, two ingresses or egresses with the same id, or an empty file.
 *
 * @example
 * const module = parseModule(
 *   'kind: io.statefun.endpoints.v2/http\nspec:\n  functions: example/*\n  urlPathTemplate: http://functions:8000/statefun\n',
 *   'module.yaml',
 * );
 * module.endpoints[0].maxNumBatchRequests; // 1000
 */
export function parseModule(text: string, file: string): StatefunModule {
  const present = readDocuments(text, file).filter(({ root }) => !root.isAbsent);
  if (present.length === 0) {
    throw new InvalidInputError(`${file}: no documents: expected at least one component document, e.g.\n${EXAMPLE}`);
  }
  const collector = new ModuleCollector(file);
  if (present.length === 1 && isMappingWith(present[0].root.value, 'version')) {
    readLegacy(present[0].root, present[0].document, collector);
  } else {
    for (const { root, document } of present) readComponent(root, document, collector);
  }
  return collector.module();
}

/**
 * Reads and parses the module.yaml at `path`, named in errors as given.
 *
 * @throws {@link InvalidInputError} when the file cannot be read, and as {@link parseModule}.
 *
 * @example
 * const module = readModuleFile('module.yaml');
 */
export function readModuleFile(path: string): StatefunModule {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new InvalidInputError(`${path}: cannot read the module file (${code}): expected a readable module.yaml`, { cause });
  }
  return parseModule(text, path);
}

/** The documents of `text`, numbered from 1; an empty one (`---` with nothing after it) is an absent root. */
function readDocuments(text: string, file: string): { root: ModuleNode; document: number }[] {
  const lineCounter = new LineCounter();
  // merge: the `<<` keys of YAML 1.1, which StateFun's parser (SnakeYAML) reads.
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, merge: true });
  return Array.from(documents, (document, index) => {
    const [error] = document.errors;
    if (error !== undefined) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      throw new InvalidInputError(`${file}, line ${line}, column ${col}: invalid YAML: ${error.message}`, { cause: error });
    }
    const where = `${file}, document ${index + 1}`;
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 1000 });
    } catch (cause) {
      // An alias to an anchor of another document, a bad merge, an alias bomb.
      throw new InvalidInputError(`${where}: invalid YAML: ${(cause as Error).message}`, { cause });
    }
    return { root: new ModuleNode(where, '', value), document: index + 1 };
  });
}

function isMappingWith(value: unknown, key: string): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && key in value;
}

function readComponent(root: ModuleNode, document: number, collector: ModuleCollector): void {
  const what = `a mapping with kind and spec, e.g.\n${EXAMPLE}`;
  root.mapping(['kind', 'spec'], what, {
    version: 'the legacy format (version: "3.0") must be the only document of the file: expected kind and spec here',
  });
  const kindNode = root.child('kind');
  const kind = kindNode.text(`a kind, one of ${ALL_KINDS.join(', ')}`);
  if (!ALL_KINDS.includes(kind)) throw kindNode.error(`unknown kind ${JSON.stringify(kind)}: expected one of ${ALL_KINDS.join(', ')}`);
  const scoped = root.within(`${root.where} (${kind})`);
  const spec = scoped.child('spec');
  if (spec.isAbsent) spec.expected('the spec of the component, a mapping');
  collector.add({ file: collector.file, document, kind }, spec, scoped.child('kind'), `document ${document}`);
}

function readLegacy(root: ModuleNode, document: number, collector: ModuleCollector): void {
  root.mapping(['version', 'module'], 'a mapping with version and module');
  const version = root.child('version');
  if (version.value !== '3.0') {
    if (version.value === '1.0' || version.value === '2.0') {
      throw version.error(`format version ${version.value} is not supported (nor by StateFun 3.x): expected "3.0", or the kind:/spec: format`);
    }
    version.expected(typeof version.value === 'number' ? '"3.0" as a string, in quotes' : '"3.0"');
  }
  const module = root.child('module').mapping(['meta', 'spec'], 'a mapping with meta and spec');
  if (module.isAbsent) module.expected('a mapping with meta and spec');
  const type = module.child('meta').mapping(['type'], 'a mapping with type: remote').child('type');
  if (typeof type.value !== 'string' || type.value.toLowerCase() !== 'remote') type.expected('"remote"');
  const spec = module.child('spec').mapping(['endpoints', 'ingresses', 'egresses'], 'a mapping with endpoints, ingresses and egresses');
  if (['endpoints', 'ingresses', 'egresses'].every((key) => spec.child(key).isAbsent)) {
    if (spec.isAbsent) spec.expected('a mapping with endpoints, ingresses and egresses');
    throw spec.error('expected at least one of endpoints, ingresses and egresses, got none');
  }
  for (const item of spec.child('endpoints').items('a list of "- endpoint:" entries', { optional: true })) {
    const entry = item.mapping(['endpoint'], 'a mapping with endpoint').child('endpoint').mapping(['meta', 'spec'], 'a mapping with meta and spec');
    const kindNode = entry.child('meta').mapping(['kind'], 'a mapping with kind').child('kind');
    readLegacyEntry(root, document, item, kindNode, entry.child('spec'), undefined, collector);
  }
  for (const list of ['ingresses', 'egresses'] as const) {
    const key = list === 'ingresses' ? 'ingress' : 'egress';
    for (const item of spec.child(list).items(`a list of "- ${key}:" entries`, { optional: true })) {
      const entry = item.mapping([key], `a mapping with ${key}`).child(key).mapping(['meta', 'spec'], 'a mapping with meta and spec');
      const meta = entry.child('meta').mapping(['type', 'id'], 'a mapping with type and id');
      readLegacyEntry(root, document, item, meta.child('type'), entry.child('spec'), meta.child('id'), collector);
    }
  }
}

/** One legacy entry, read as the component StateFun makes of it: `meta.id` moves into the spec. */
function readLegacyEntry(
  root: ModuleNode,
  document: number,
  item: ModuleNode,
  kindNode: ModuleNode,
  spec: ModuleNode,
  idNode: ModuleNode | undefined,
  collector: ModuleCollector,
): void {
  const legacyKinds = Object.keys(LEGACY_KINDS);
  const given = kindNode.text(`a kind, one of ${legacyKinds.join(', ')}`);
  const kind = LEGACY_KINDS[given] ?? given;
  if (!ALL_KINDS.includes(kind)) {
    throw kindNode.error(`unknown kind ${JSON.stringify(given)}: expected one of ${[...legacyKinds, ...ALL_KINDS].join(', ')}`);
  }
  const where = `${root.where} (${kind})`;
  if (spec.isAbsent) spec.within(where).expected('the spec of the component, a mapping');
  let scopedSpec = spec.within(where);
  if (idNode !== undefined) scopedSpec = scopedSpec.withChild('id', idNode.within(where));
  collector.add({ file: collector.file, document, kind }, scopedSpec, kindNode.within(where), item.path);
}

/** Gathers the parts of a module, refusing two endpoints for one function type and two ingresses or egresses with one id. */
class ModuleCollector {
  private readonly endpoints: EndpointSpec[] = [];
  private readonly ingresses: IngressSpec[] = [];
  private readonly egresses: EgressSpec[] = [];
  /** Who declared each function pattern, ingress id and egress id first, e.g. `document 2`. */
  private readonly declaredBy = new Map<string, string>();

  constructor(readonly file: string) {}

  /** Reads one component; `label` names it in a later duplicate's error (`document 3`, or a legacy entry's path). */
  add(source: ModuleSource, spec: ModuleNode, kindNode: ModuleNode, label: string): void {
    const kind = source.kind;
    if ((ENDPOINT_KINDS as readonly string[]).includes(kind)) {
      const endpoint = parseEndpointSpec(kind as EndpointKind, spec, source);
      const pattern = `${endpoint.functions.namespace}/${endpoint.functions.name ?? '*'}`;
      this.claim(`functions ${pattern}`, label, spec.child('functions'), `${JSON.stringify(pattern)} is already served by the endpoint of`, 'each function type or namespace in one endpoint');
      this.endpoints.push(endpoint);
    } else if ((INGRESS_KINDS as readonly string[]).includes(kind)) {
      const ingress = parseIngressSpec(kind as IngressKind, spec, source);
      const at = ingress.kind === 'playground' ? kindNode : spec.child('id');
      this.claim(`ingress ${ingress.id}`, label, at, `ingress id ${JSON.stringify(ingress.id)} is already declared by`, 'each ingress id once (a module has at most one playground ingress)');
      if (ingress.kind === 'playground') this.checkPort(ingress, this.egresses, spec.child('port'));
      this.ingresses.push(ingress);
    } else {
      const egress = parseEgressSpec(kind as EgressKind, spec, source);
      const at = egress.kind === 'playground' ? kindNode : spec.child('id');
      this.claim(`egress ${egress.id}`, label, at, `egress id ${JSON.stringify(egress.id)} is already declared by`, 'each egress id once (a module has at most one playground egress)');
      if (egress.kind === 'playground') this.checkPort(egress, this.ingresses, spec.child('port'));
      this.egresses.push(egress);
    }
  }

  module(): StatefunModule {
    return { file: this.file, endpoints: this.endpoints, ingresses: this.ingresses, egresses: this.egresses };
  }

  private claim(key: string, label: string, at: ModuleNode, clash: string, expected: string): void {
    const earlier = this.declaredBy.get(key);
    if (earlier !== undefined) throw at.error(`${clash} ${earlier}: expected ${expected}`);
    this.declaredBy.set(key, label);
  }

  /** The playground ingress and egress are two HTTP servers: they cannot listen on one port. */
  private checkPort(part: { host: string; port: number }, others: readonly (IngressSpec | EgressSpec)[], at: ModuleNode): void {
    const other = others.find((o) => o.kind === 'playground' && o.port === part.port && o.host === part.host);
    if (other !== undefined && part.port !== 0) {
      throw at.error(`port ${part.port} on ${part.host} is already the one of ${other.source.kind} (document ${other.source.document}): expected another port`);
    }
  }
}
