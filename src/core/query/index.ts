// AWS Query protocol: form parameters in, XML out, errors from the catalog.
export {
  type ActionContext,
  type ActionResult,
  type Authenticated,
  createRegistry,
  defineAction,
  errorResponse,
  handleQueryRequest,
  type Principal,
  QUERY_SERVICES,
  type QueryAction,
  type QueryDeps,
  type QueryHttpRequest,
  type QueryHttpResponse,
  type QueryRegistry,
  type QueryService,
  readParameters,
  type SignedActionContext,
  type SignedActionDefinition,
  type UnsignedActionDefinition,
} from './dispatch.js';
export { AwsError, ERROR_CATALOG, type ErrorCode, type Fault, isAwsError } from './errors.js';
export {
  type FormMap,
  FormReader,
  type IntRule,
  type ListRule,
  PATTERNS,
  parseForm,
  type StringRule,
} from './parse-form.js';
export {
  type ErrorEnvelope,
  escapeXml,
  isoTimestamp,
  type ResponseEnvelope,
  renderContent,
  renderError,
  renderResponse,
  type XmlObject,
  type XmlScalar,
  type XmlValue,
} from './xml.js';
