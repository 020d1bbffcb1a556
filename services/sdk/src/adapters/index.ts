export { fromAnthropic } from './anthropic.js';
export { type AdapterOptions, CLAMPED_TAG, type ProviderUsage } from './common.js';
export { fromGemini } from './gemini.js';
export { fromOpenAIChat, fromOpenAIResponses } from './openai.js';
export { fromOtelGenAI, type OtelGenAIOptions, type SpanAttributes } from './otel-genai.js';
export { fromVercelAI, type VercelAIOptions, type VercelAIResultLike } from './vercel-ai.js';
