/**
 * Provider names arrive from SDK adapters, OpenTelemetry (`gen_ai.system`, e.g. "az.ai.openai")
 * and LiteLLM ("together_ai"). They are folded to one spelling per billing entity; hosts that bill
 * differently stay distinct ('openai' vs 'azure_openai', 'google' vs 'vertex_ai').
 */
const PROVIDER_SYNONYMS: Readonly<Record<string, string>> = {
  az_ai_openai: 'azure_openai',
  azure: 'azure_openai',
  gemini: 'google',
  google_ai_studio: 'google',
  gcp_gemini: 'google',
  gcp_vertex_ai: 'vertex_ai',
  vertex: 'vertex_ai',
  aws_bedrock: 'bedrock',
  amazon_bedrock: 'bedrock',
  bedrock_converse: 'bedrock',
  mistral_ai: 'mistral',
  mistralai: 'mistral',
  x_ai: 'xai',
  together_ai: 'together',
  togetherai: 'together',
  fireworks_ai: 'fireworks',
};

/** Lower-case, punctuation to '_', then known synonyms: "Azure-OpenAI" → "azure_openai". */
export function normalizeProvider(provider: string): string {
  const folded = provider
    .trim()
    .toLowerCase()
    .replace(/[\s.\-/]+/g, '_');
  return PROVIDER_SYNONYMS[folded] ?? folded;
}

/** Model names are matched case-insensitively ("meta-llama/Llama-3.3-70B-Instruct-Turbo"). */
export function normalizeModel(model: string): string {
  return model.trim().toLowerCase();
}
