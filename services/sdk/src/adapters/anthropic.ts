import { type AdapterOptions, field, modelOf, type ProviderUsage, UsageBuilder } from './common.js';

/** The parts of an Anthropic Messages API response this adapter reads. */
export interface AnthropicMessageLike {
  model?: string;
  usage?: {
    input_tokens?: number;
    output_tokens?: number;
    cache_creation_input_tokens?: number | null;
    cache_read_input_tokens?: number | null;
    cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | null;
    server_tool_use?: { web_search_requests?: number } | null;
  } | null;
}

/**
 * Anthropic Messages `usage`. https://docs.anthropic.com/en/api/messages (response `usage`) and
 * https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance:
 * `input_tokens` counts only the tokens AFTER the last cache breakpoint — it EXCLUDES
 * `cache_read_input_tokens` and `cache_creation_input_tokens` — so all three map straight to
 * buckets with no subtraction (adding them together would be the double count).
 * Extended-thinking tokens are billed inside `output_tokens` and not reported apart, so reasoning
 * is 0 and the thinking is in output. 1-hour cache writes (priced above 5-minute ones) are copied
 * to the `cache_write_1h_tokens` tag; `server_tool_use.web_search_requests` becomes
 * units.web_search_calls.
 */
export function fromAnthropic(response: AnthropicMessageLike, options: AdapterOptions = {}): ProviderUsage {
  const usage = field(response, 'usage');
  const b = new UsageBuilder();
  const webSearches = b.count(
    field(field(usage, 'server_tool_use'), 'web_search_requests'),
    'web_search_calls',
  );
  b.tagCount(
    'cache_write_1h_tokens',
    b.count(field(field(usage, 'cache_creation'), 'ephemeral_1h_input_tokens'), 'cache_write'),
  );
  return b.build(
    options.provider ?? 'anthropic',
    modelOf(response, options),
    {
      input: b.count(field(usage, 'input_tokens'), 'input'),
      cached_input: b.count(field(usage, 'cache_read_input_tokens'), 'cached_input'),
      cache_write: b.count(field(usage, 'cache_creation_input_tokens'), 'cache_write'),
      output: b.count(field(usage, 'output_tokens'), 'output'),
      reasoning: 0,
    },
    webSearches > 0 ? { web_search_calls: webSearches } : undefined,
  );
}
