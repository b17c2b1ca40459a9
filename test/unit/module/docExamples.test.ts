import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { moduleResolver } from '../../../runtime-lambda/module/moduleResolver';
import { parseModule } from '../../../runtime-lambda/module/parseModule';

/** The fenced blocks of `language` in the "## module.yaml" section of docs/statefun-compatibility.md. */
function blocks(language: string): string[] {
  const doc = readFileSync(join(__dirname, '../../../docs/statefun-compatibility.md'), 'utf8');
  const start = doc.indexOf('\n## module.yaml\n');
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
