// One request decided as AWS decides it, by @cloud-copilot/iam-simulate: identity policies, the
// permissions boundary, a resource (or key) policy, conditions and policy variables, with AWS's
// order of evaluation (an explicit deny wins; an allow must come from every policy type that applies).
// One step is done here first: the principal's tags in policy variables (`${aws:PrincipalTag/stage}`)
// are replaced by the request's values, as AWS does before matching. The evaluator reads a `/` in
// a variable as the start of a resource path, and so never matches an ARN without one (SQS, SNS)
// that holds such a variable; a tag the request lacks stays a variable, which matches nothing.
import { runSimulation } from '@cloud-copilot/iam-simulate';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
type Policy = Record<string, unknown>;

export interface Request {
  /** The calling principal: a role session ARN. */
  principal: string;
  action: string;
  resource: string;
  /** The account the resource is in; the principal's own when left out. */
  resourceAccount?: string;
  identity: Policy[];
  boundary?: Policy;
  resourcePolicy?: Policy;
  context?: Record<string, string | string[]>;
}

const accountOf = (arn: string) => arn.split(':')[4];

/** `policy` with every `${aws:PrincipalTag/<key>}` the context gives replaced by its value. */
function withPrincipalTags(policy: Policy, context: Record<string, string | string[]>): Policy {
  const text = JSON.stringify(policy).replace(/\$\{aws:PrincipalTag\/([^}]+)\}/g, (variable, key: string) => {
    const value = context[`aws:PrincipalTag/${key}`];
    return typeof value === 'string' ? value : variable;
  });
  return JSON.parse(text);
}

export async function decide(request: Request): Promise<Decision> {
  const account = accountOf(request.principal);
  const context = request.context ?? {};
  const resolve = (policy: Policy) => withPrincipalTags(policy, context);
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.resourceAccount ?? account },
        contextVariables: { 'aws:PrincipalAccount': account, ...request.context },
      },
      identityPolicies: request.identity.map((policy, index) => ({ name: `identity-${index}`, policy: resolve(policy) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.boundary && { permissionBoundaryPolicies: [{ name: 'boundary', policy: resolve(request.boundary) }] }),
      ...(request.resourcePolicy && { resourcePolicy: resolve(request.resourcePolicy) }),
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(`the evaluator refused the request ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
}
