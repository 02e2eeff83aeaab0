// What every custom-resource function finds in its environment, declared once for the template
// (resources/functions.ts sets it) and the functions (lib/stack-check.ts reads it).

/** The function's own stack id: the only stack whose events it acts on. */
export const stackIdVariable = 'STACK_ID';
