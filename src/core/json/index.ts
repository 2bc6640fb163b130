// AWS JSON 1.1 protocol: X-Amz-Target → typed input, JSON out, errors from the catalog.
export {
  createJsonRegistry,
  defineOperation,
  handleJsonRequest,
  isJsonProtocol,
  JSON_CONTENT_TYPE,
  JSON_SERVICES,
  type JsonAuthenticated,
  type JsonDeps,
  type JsonHttpRequest,
  type JsonHttpResponse,
  type JsonObject,
  type JsonOperation,
  type JsonRegistry,
  type JsonService,
  type JsonValue,
  jsonErrorResponse,
  type OperationContext,
  type OperationDefinition,
} from './dispatch.js';
export {
  JSON_ERROR_CATALOG,
  JSON_MESSAGES,
  JsonError,
  type JsonErrorCode,
  jsonError,
  REASONS,
  type Reason,
  toJsonError,
} from './errors.js';
export { JsonReader, parseBody, type StringRule } from './input.js';
