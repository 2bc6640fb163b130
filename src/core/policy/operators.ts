// Condition operator grammar: [ForAllValues:|ForAnyValue:] <base operator> [IfExists]. The table is
// built once from the base operators, so a lookup is a single Map access on the operator as written.

export type Family = 'string' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';

/** How a base operator compares one presented value with one policy value. */
export type Compare =
  | 'equals'
  | 'equalsIgnoreCase'
  | 'like'
  | 'lt'
  | 'lte'
  | 'gt'
  | 'gte'
  | 'cidr'
  | 'exists';

export interface OperatorSpec {
  operator: string;
  base: string;
  family: Family;
  compare: Compare;
  /** Negated operators ("matches none of"): a missing key makes them true. */
  negated: boolean;
  ifExists: boolean;
  set: 'all' | 'any' | null;
  /** Policy variables are substituted only for String and ARN operators. */
  variables: boolean;
}

type Base = Pick<OperatorSpec, 'family' | 'compare' | 'negated'>;

const BASE: Readonly<Record<string, Base>> = {
  StringEquals: { family: 'string', compare: 'equals', negated: false },
  StringNotEquals: { family: 'string', compare: 'equals', negated: true },
  StringEqualsIgnoreCase: { family: 'string', compare: 'equalsIgnoreCase', negated: false },
  StringNotEqualsIgnoreCase: { family: 'string', compare: 'equalsIgnoreCase', negated: true },
  StringLike: { family: 'string', compare: 'like', negated: false },
  StringNotLike: { family: 'string', compare: 'like', negated: true },
  NumericEquals: { family: 'numeric', compare: 'equals', negated: false },
  NumericNotEquals: { family: 'numeric', compare: 'equals', negated: true },
  NumericLessThan: { family: 'numeric', compare: 'lt', negated: false },
  NumericLessThanEquals: { family: 'numeric', compare: 'lte', negated: false },
  NumericGreaterThan: { family: 'numeric', compare: 'gt', negated: false },
  NumericGreaterThanEquals: { family: 'numeric', compare: 'gte', negated: false },
  DateEquals: { family: 'date', compare: 'equals', negated: false },
  DateNotEquals: { family: 'date', compare: 'equals', negated: true },
  DateLessThan: { family: 'date', compare: 'lt', negated: false },
  DateLessThanEquals: { family: 'date', compare: 'lte', negated: false },
  DateGreaterThan: { family: 'date', compare: 'gt', negated: false },
  DateGreaterThanEquals: { family: 'date', compare: 'gte', negated: false },
  Bool: { family: 'bool', compare: 'equals', negated: false },
  BinaryEquals: { family: 'binary', compare: 'equals', negated: false },
  IpAddress: { family: 'ip', compare: 'cidr', negated: false },
  NotIpAddress: { family: 'ip', compare: 'cidr', negated: true },
  // ArnEquals behaves like ArnLike: each ARN component is matched with wildcards.
  ArnEquals: { family: 'arn', compare: 'like', negated: false },
  ArnLike: { family: 'arn', compare: 'like', negated: false },
  ArnNotEquals: { family: 'arn', compare: 'like', negated: true },
  ArnNotLike: { family: 'arn', compare: 'like', negated: true },
  Null: { family: 'null', compare: 'exists', negated: false },
};

function buildTable(): ReadonlyMap<string, OperatorSpec> {
  const table = new Map<string, OperatorSpec>();
  for (const [base, b] of Object.entries(BASE)) {
    for (const set of [null, 'all', 'any'] as const) {
      for (const ifExists of [false, true]) {
        // Null tests presence itself: neither IfExists nor a set prefix means anything with it.
        if (b.family === 'null' && (ifExists || set !== null)) continue;
        const prefix = set === 'all' ? 'ForAllValues:' : set === 'any' ? 'ForAnyValue:' : '';
        const operator = `${prefix}${base}${ifExists ? 'IfExists' : ''}`;
        const variables = b.family === 'string' || b.family === 'arn';
        table.set(operator, { operator, base, ...b, ifExists, set, variables });
      }
    }
  }
  return table;
}

const TABLE = buildTable();

/** The operator's meaning, or undefined for an unknown operator (a validation error, never a match). */
export const operatorSpec = (operator: string): OperatorSpec | undefined => TABLE.get(operator);
