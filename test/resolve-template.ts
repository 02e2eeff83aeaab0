// A template's values as CloudFormation would resolve them in one account and region: pseudo
// parameters, and the names and ARNs of the resources a test gives. For policies an evaluator reads.
import type { TemplateNode } from '../plugins/lib/template-node';

export interface Resolution {
  /** AWS::AccountId, AWS::Region, AWS::Partition (aws by default). */
  pseudo: { 'AWS::AccountId': string; 'AWS::Region': string; 'AWS::Partition'?: string };
  /** `Ref` of a resource, by logical id. */
  refs?: Record<string, string>;
  /** `Fn::GetAtt` of a resource, by `<LogicalId>.<Attribute>`. */
  attributes?: Record<string, string>;
}

export function resolveTemplate(value: TemplateNode, resolution: Resolution): TemplateNode {
  const names: Record<string, string> = { 'AWS::Partition': 'aws', ...resolution.pseudo, ...resolution.refs, ...resolution.attributes };
  const known = (name: string) => {
    if (!(name in names)) throw new Error(`the test does not resolve ${name}`);
    return names[name];
  };
  const walk = (node: TemplateNode): TemplateNode => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const [key, inner] = Object.entries(node)[0] ?? [];
    if (Object.keys(node).length === 1) {
      if (key === 'Ref') return known(String(inner));
      if (key === 'Fn::GetAtt') return known((inner as string[]).join('.'));
      if (key === 'Fn::Sub') return String(inner).replace(/\$\{([^}!]+)\}/g, (_, name: string) => known(name));
      if (key === 'Fn::Join') {
        const [separator, parts] = inner as [string, TemplateNode[]];
        return parts.map((part) => String(walk(part))).join(separator);
      }
    }
    return Object.fromEntries(Object.entries(node).map(([name, child]) => [name, walk(child)]));
  };
  return walk(value);
}
