/**
 * The deployments a vendor's key in the environment gives without a config file: the default
 * model map (upstream ids and what one image costs us there, in integer micro-dollars, at the
 * adapters' default quality and about 1 MP). Dated 2026-12; the config file replaces all of it.
 *
 * - OpenAI: gpt-image-1 at medium quality, 1024x1024 (1,056 output tokens at $40/M).
 * - Gemini: nano-banana is gemini-2.5-flash-image (1,290 output tokens at $30/M; Google lists its
 *   shutdown as "earliest October 2026" — change the id here when it goes); nano-banana-2 is
 *   gemini-3.1-flash-image at 1K (1,120 tokens at $60/M; its -preview id was shut down 2026-06-25).
 * - Ideogram: ideogram-v3 at the DEFAULT rendering speed ($0.06).
 * - BFL: flux-2-flex and flux-2-max at 1 MP (list prices).
 * - Azure OpenAI: the deployment name of gpt-image-1 comes from the environment too.
 * - Together: FLUX.1 [schnell] at $0.0027 (together.ai/pricing as cited 2026-05; Together's own
 *   model list of 2026-10 says it is no longer listed — a 404 then fails over); FLUX.2 [dev] at
 *   $0.0154 (a third-party figure, unconfirmed).
 * - fal: flux/schnell $0.003/MP, flux-2-flex $0.05/MP, ideogram/v3 BALANCED $0.06 (third-party
 *   pages quoting fal, 2026-05); FLUX.2 dev $0.012/MP, flux-2-max and the Nano Bananas are the
 *   model owners' list prices, fal's own not verified (fal's /v1/models/pricing answers it with a key).
 * - Replicate: flux-schnell $0.003 (replicate.com/pricing as cited 2026-05); the others are the
 *   model owners' list prices, Replicate's own not verified; gpt-image-1 is left out (Replicate
 *   bills it to the operator's own OpenAI key, a second secret).
 * - midjourney-proxy (self-hosted, a Midjourney subscription behind it): about one Fast GPU minute
 *   per generation at $4 per extra Fast hour (help.midjourney.com, usagepricing.com, 2026).
 * - JourneyAPI: its credits per model (journeyapi.co/docs/models, read 2026-12) at the Hobby
 *   plan's $19 / 1,100 credits = 17,273 µ$ per credit; it is the one host serving midjourney.
 */
export interface ZeroConfigDeployment {
  id: string;
  type: string;
  /** Every variable that must be set for the deployment to exist; the first holds the API key. */
  env: string[];
  /** The variable holding the base URL: optional (a proxy, a regional endpoint) unless `env` names it too. */
  base_url_env: string;
  models: Record<string, { upstream_model: string; upstream_model_env?: string; cost_usd_micros: number }>;
}

export const ZERO_CONFIG_DEPLOYMENTS: readonly ZeroConfigDeployment[] = [
  {
    id: 'openai',
    type: 'openai',
    env: ['OPENAI_API_KEY'],
    base_url_env: 'OPENAI_BASE_URL',
    models: { 'gpt-image-1': { upstream_model: 'gpt-image-1', cost_usd_micros: 42_240 } },
  },
  {
    id: 'azure-openai',
    type: 'azure-openai',
    env: ['AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_IMAGE_DEPLOYMENT'],
    base_url_env: 'AZURE_OPENAI_ENDPOINT',
    models: {
      'gpt-image-1': {
        upstream_model: '',
        upstream_model_env: 'AZURE_OPENAI_IMAGE_DEPLOYMENT',
        cost_usd_micros: 42_240,
      },
    },
  },
  {
    id: 'gemini',
    type: 'gemini',
    env: ['GEMINI_API_KEY'],
    base_url_env: 'GEMINI_BASE_URL',
    models: {
      'nano-banana': { upstream_model: 'gemini-2.5-flash-image', cost_usd_micros: 38_700 },
      'nano-banana-2': { upstream_model: 'gemini-3.1-flash-image', cost_usd_micros: 67_200 },
    },
  },
  {
    id: 'ideogram',
    type: 'ideogram',
    env: ['IDEOGRAM_API_KEY'],
    base_url_env: 'IDEOGRAM_BASE_URL',
    models: { 'ideogram-v3': { upstream_model: 'ideogram-v3', cost_usd_micros: 60_000 } },
  },
  {
    id: 'bfl',
    type: 'bfl',
    env: ['BFL_API_KEY'],
    base_url_env: 'BFL_BASE_URL',
    models: {
      'flux-2-flex': { upstream_model: 'flux-2-flex', cost_usd_micros: 60_000 },
      'flux-2-max': { upstream_model: 'flux-2-max', cost_usd_micros: 70_000 },
    },
  },
  {
    id: 'together',
    type: 'together',
    env: ['TOGETHER_API_KEY'],
    base_url_env: 'TOGETHER_BASE_URL',
    models: {
      'flux-2-dev': { upstream_model: 'black-forest-labs/FLUX.2-dev', cost_usd_micros: 15_400 },
      'flux-schnell': { upstream_model: 'black-forest-labs/FLUX.1-schnell', cost_usd_micros: 2_700 },
    },
  },
  {
    id: 'journeyapi',
    type: 'journeyapi',
    env: ['JOURNEYAPI_API_KEY'],
    base_url_env: 'JOURNEYAPI_BASE_URL',
    models: {
      'flux-2-dev': { upstream_model: 'flux-2-dev', cost_usd_micros: 17_273 },
      'flux-schnell': { upstream_model: 'flux-schnell', cost_usd_micros: 17_273 },
      'nano-banana': { upstream_model: 'nano-banana', cost_usd_micros: 34_545 },
      'gpt-image-1': { upstream_model: 'gpt-image-1', cost_usd_micros: 34_545 },
      'flux-2-flex': { upstream_model: 'flux-2-flex', cost_usd_micros: 34_545 },
      'nano-banana-2': { upstream_model: 'nano-banana-2', cost_usd_micros: 69_091 },
      midjourney: { upstream_model: 'midjourney', cost_usd_micros: 69_091 },
      'flux-2-max': { upstream_model: 'flux-2-max', cost_usd_micros: 69_091 },
      'ideogram-v3': { upstream_model: 'ideogram-v3', cost_usd_micros: 103_636 },
    },
  },
  {
    id: 'midjourney-proxy',
    type: 'midjourney-proxy',
    env: ['MIDJOURNEY_PROXY_SECRET', 'MIDJOURNEY_PROXY_URL'],
    base_url_env: 'MIDJOURNEY_PROXY_URL',
    models: { midjourney: { upstream_model: 'midjourney-v7', cost_usd_micros: 66_667 } },
  },
  {
    id: 'replicate',
    type: 'replicate',
    env: ['REPLICATE_API_TOKEN'],
    base_url_env: 'REPLICATE_BASE_URL',
    models: {
      'flux-schnell': { upstream_model: 'black-forest-labs/flux-schnell', cost_usd_micros: 3_000 },
      'flux-2-dev': { upstream_model: 'black-forest-labs/flux-2-dev', cost_usd_micros: 12_000 },
      'flux-2-flex': { upstream_model: 'black-forest-labs/flux-2-flex', cost_usd_micros: 60_000 },
      'nano-banana': { upstream_model: 'google/nano-banana', cost_usd_micros: 39_000 },
      'nano-banana-2': { upstream_model: 'google/nano-banana-2', cost_usd_micros: 67_200 },
      'ideogram-v3': { upstream_model: 'ideogram-ai/ideogram-v3-balanced', cost_usd_micros: 60_000 },
    },
  },
  {
    id: 'fal',
    type: 'fal',
    env: ['FAL_KEY'],
    base_url_env: 'FAL_BASE_URL',
    models: {
      'flux-2-dev': { upstream_model: 'fal-ai/flux-2', cost_usd_micros: 12_000 },
      'flux-schnell': { upstream_model: 'fal-ai/flux/schnell', cost_usd_micros: 3_000 },
      'flux-2-flex': { upstream_model: 'fal-ai/flux-2-flex', cost_usd_micros: 50_000 },
      'flux-2-max': { upstream_model: 'fal-ai/flux-2-max', cost_usd_micros: 70_000 },
      'nano-banana': { upstream_model: 'fal-ai/nano-banana', cost_usd_micros: 39_000 },
      'nano-banana-2': { upstream_model: 'fal-ai/nano-banana-2', cost_usd_micros: 80_000 },
      'ideogram-v3': { upstream_model: 'fal-ai/ideogram/v3', cost_usd_micros: 60_000 },
    },
  },
];
