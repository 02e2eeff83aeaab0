// The values of a CloudFormation template, for the plugins that walk one: a recursive type, which
// JSDoc cannot declare.
export type TemplateNode = string | number | boolean | null | undefined | TemplateNode[] | TemplateObject;
export interface TemplateObject {
  [key: string]: TemplateNode;
}
