import { SANDBOX_CAPABILITIES } from '../../providers/sandbox';
import type { ModelCapabilities } from '../../providers/types';
import { unmetParameters } from '../../routing/capabilities';

const gptImage: ModelCapabilities = {
  ...SANDBOX_CAPABILITIES,
  seed: false,
  negativePrompt: false,
  maxImages: 10,
  maxReferenceImages: 16,
  outputFormats: ['png', 'jpeg', 'webp'],
};
const ideogram: ModelCapabilities = {
  ...SANDBOX_CAPABILITIES,
  maxImages: 8,
  maxReferenceImages: 10,
  aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'],
  outputFormats: ['png'],
};

describe('what a deployment cannot serve as asked', () => {
  const plain = { n: 1, aspect_ratio: '1:1' as const };

  it('finds a mask missing where the deployment takes none', () => {
    const masked = {
      ...plain,
      image_urls: ['https://example.com/a.png'],
      mask_url: 'https://example.com/m.png',
    };
    expect(unmetParameters(masked, gptImage)).toEqual([]);
    expect(unmetParameters(masked, { ...ideogram, mask: false })).toEqual(['mask_url']);
  });

  it('finds nothing missing in a plain request', () => {
    expect(unmetParameters(plain, gptImage)).toEqual([]);
    expect(unmetParameters(plain, ideogram)).toEqual([]);
  });

  it('names each parameter the capabilities lack, in the API’s own names', () => {
    expect(unmetParameters({ ...plain, seed: 7, negative_prompt: 'blur' }, gptImage)).toEqual([
      'seed',
      'negative_prompt',
    ]);
    expect(unmetParameters({ ...plain, aspect_ratio: '21:9', output_format: 'jpeg' }, ideogram)).toEqual([
      'aspect_ratio',
      'output_format',
    ]);
    expect(unmetParameters({ ...plain, n: 9 }, ideogram)).toEqual(['n']);
    expect(
      unmetParameters(
        { ...plain, image_urls: Array.from({ length: 11 }, (_, i) => `https://x/${i}`) },
        ideogram,
      ),
    ).toEqual(['image_urls']);
  });

  it('takes a format only when the deployment makes it, and no format as any', () => {
    expect(unmetParameters({ ...plain, output_format: 'webp' }, gptImage)).toEqual([]);
    expect(unmetParameters({ ...plain, output_format: 'webp' }, { ...gptImage, outputFormats: [] })).toEqual([
      'output_format',
    ]);
    expect(unmetParameters(plain, { ...gptImage, outputFormats: [] })).toEqual([]);
  });
});
