export {
  type AlertPayload,
  type BudgetAnswer,
  type BudgetDecision,
  type DecisionReason,
  generateWebhookSecret,
  type ModelSuggestion,
  type SignWebhookOptions,
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
  type WebhookHeaders,
  WebhookVerificationError,
} from '@burnrate/core';
export * from './adapters/index.js';
export { withBudget } from './budget/budget-scope.js';
export {
  type BudgetClient,
  type BudgetClientOptions,
  type BudgetQuery,
  createBudgetClient,
} from './budget/client.js';
export { type CostCheck, checkRunCost } from './budget/cost-check.js';
export {
  BudgetApiError,
  type BudgetCap,
  BudgetExceededError,
  BudgetUnavailableError,
} from './budget/errors.js';
export type { BudgetLimits } from './budget/limits.js';
export { type WithRetryOptions, withRetry } from './context/with-retry.js';
export {
  currentContext,
  type StepOptions,
  type WorkflowContext,
  type WorkflowOptions,
  withAttempt,
  withStep,
  withWorkflow,
} from './context/workflow-context.js';
export { type CloseReport, createEmitter, type Emitter, type EmitterStats } from './emitter/emitter.js';
export { buildEvent, type EmitInput, type EventDefaults } from './emitter/event-builder.js';
export type { DeliveryFailure, EmitterOptions, RetryOptions, SpoolOptions } from './emitter/options.js';
export { EmitterClosedError, FlushTimeoutError, ProduceError, QueueFullError, SpoolError } from './errors.js';
export type { Compression } from './kafka/kafka-sender.js';
export type { Logger } from './logger.js';
