import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { moduleResolver } from '../../../runtime-lambda/module/moduleResolver';
import { parseModule } from '../../../runtime-lambda/module/parseModule';
import { startDevModule } from '../../../runtime-lambda/local/devModule';

/** The fenced blocks of `language` in the `## <heading>` section of docs/statefun-compatibility.md. */
function blocks(language: string, heading = 'module.yaml'): string[] {
  const doc = readFileSync(join(__dirname, '../../../docs/statefun-compatibility.md'), 'utf8');
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`docs/statefun-compatibility.md has no section "## ${heading}"`);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1]);
}

describe('docs/statefun-compatibility.md, "module.yaml"', () => {
  it('has YAML examples that all parse', () => {
    // Act
    const yaml = blocks('yaml');

    // Assess
    expect(yaml.length).toBeGreaterThanOrEqual(4);
    for (const text of yaml) expect(() => parseModule(text, 'module.yaml')).not.toThrow();
  });

  it('says of the runnable example what the code does', () => {
    // Prepare
    const [example] = blocks('yaml');
    const [code] = blocks('ts');

    // Act
    const module = parseModule(example, 'module.yaml');
    const greeter = moduleResolver(module).resolve('example/greeter');

    // Assess
    expect(code).toContain(`console.log(module.endpoints[0].maxNumBatchRequests); // ${module.endpoints[0].maxNumBatchRequests}, StateFun's default`);
    expect(code).toContain(`console.log(module.endpoints[0].timeouts.callMs); // ${module.endpoints[0].timeouts.callMs}: the async transport's 2 minutes`);
    expect(greeter).toBeDefined();
  });

  it('shows errors exactly as the parser gives them', () => {
    // Prepare
    const [text] = blocks('text');
    const errorOf = (yaml: string) => {
      try {
        parseModule(yaml, 'module.yaml');
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    const v2Call =
      'kind: io.statefun.playground.v1/ingress\nspec: {}\n---\nkind: io.statefun.endpoints.v2/http\nspec:\n  functions: example/*\n  urlPathTemplate: http://localhost:8000/statefun\n  transport:\n    timeouts:\n      call: soon';
    const legacy = 'version: "3.0"\nmodule:\n  meta:\n    type: remote\n  spec:\n    endpoints:\n      - endpoint:\n          meta:\n            kind: http\n          spec:\n            functions: a/*\n            urlPathTemplate: http://a/\n            timeouts:\n              call: never';

    // Act
    const produced = [errorOf(v2Call), errorOf(legacy), errorOf('kind: a\nspec: b: c')];

    // Assess
    expect(text.trim().split('\n')).toEqual(produced);
  });
});

describe('docs/statefun-compatibility.md, "Migrating from a Flink cluster, step by step"', () => {
  const heading = 'Migrating from a Flink cluster, step by step';

  it('has the Flink module, its local copy and its AWS version, all parsing', () => {
    // Act
    const [flink, dev, aws] = blocks('yaml', heading).map((text) => parseModule(text, 'module.yaml'));

    // Assess
    expect(blocks('yaml', heading)).toHaveLength(3);
    expect([flink, dev, aws].map((m) => m.endpoints.map((e) => e.functions))).toEqual(Array(3).fill([{ namespace: 'example' }]));
    expect(dev.ingresses.map((i) => i.kind)).toEqual(['playground']);
    expect(aws.ingresses).toEqual([expect.objectContaining({ kind: 'kinesis', startupPosition: { type: 'date', date: new Date('2026-12-05T09:30:00.000Z') } })]);
    expect(aws.endpoints[0]).toEqual(expect.objectContaining({ timeouts: expect.objectContaining({ callMs: 30_000 }) }));
  });

  it('is right that statefun dev refuses the Flink module, naming its Kinesis ingress and egress', async () => {
    // Prepare
    const [flink] = blocks('yaml', heading).map((text) => parseModule(text, 'module.yaml'));

    // Act
    const started = startDevModule(flink, { functions: moduleResolver(flink) });

    // Assess
    await expect(started).rejects.toThrow(/document 2 \(io\.statefun\.kinesis\.v1\/ingress\)[\s\S]*document 3 \(io\.statefun\.kinesis\.v1\/egress\)/);
  });
});
