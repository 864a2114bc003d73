import { startTestEasel, type TestEasel } from '../support/easel';

describe('the API reference', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel();
  });
  afterAll(async () => {
    await easel?.stop();
  });

  it('serves the OpenAPI 3.1 document, with this Easel’s catalog in the request bodies', async () => {
    const res = await fetch(`${easel.baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    const imagine = doc.paths['/v1/imagine']!.post!.requestBody!.content['application/json']!.schema as {
      properties: { model: { enum: string[] }; task: { enum: string[] } };
    };
    expect(imagine.properties.model.enum).toEqual([...Object.keys(easel.catalog.models), 'auto']);
    expect(imagine.properties.task.enum).toEqual(Object.keys(easel.catalog.tasks));
  });

  it('renders it at /docs from files served by Easel itself', async () => {
    const page = await fetch(`${easel.baseUrl}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url]) => url!);
    expect(assets).toEqual([
      '/docs/assets/swagger-ui.css',
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/init.js',
    ]);
    for (const asset of assets) {
      const res = await fetch(`${easel.baseUrl}${asset}`);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      expect(res.headers.get('content-type')).toMatch(asset.endsWith('.css') ? /text\/css/ : /javascript/);
    }
    expect(await (await fetch(`${easel.baseUrl}/docs/init.js`)).text()).toContain("url: '/openapi.json'");
    expect((await fetch(`${easel.baseUrl}/docs/assets/nothing.js`)).status).toBe(404);
  });
});
