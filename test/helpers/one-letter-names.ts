import ts from 'typescript';

/**
 * One-letter names that are not where a reader expects them: anything but a
 * tiny lambda's parameter (its whole body within three lines), a loop's
 * variable, a catch clause's error, a comparator's `a` and `b`, and the
 * index names `i` and `j`. Returns `line:name` for each, in order.
 */
export function unexplainedOneLetterNames(fileName: string, text: string, allowed: ReadonlySet<string> = new Set()): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const lines = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.end).line - sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const isTinyLambda = (node: ts.Node) => (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && lines(node) <= 3;
  const isComparator = (fn: ts.SignatureDeclaration) =>
    fn.parameters.length === 2 && fn.parameters.every((p, k) => ts.isIdentifier(p.name) && p.name.text === 'ab'[k]);
  const isLoopHead = (node: ts.Node) => ts.isForStatement(node) || ts.isForOfStatement(node) || ts.isForInStatement(node);
  /** Where the name is declared: the parameter, variable or property that holds it (through any destructuring). */
  const holder = (node: ts.Node): ts.Node => {
    let at = node;
    while (ts.isBindingElement(at) || ts.isObjectBindingPattern(at) || ts.isArrayBindingPattern(at)) at = at.parent;
    return at;
  };
  const explained = (decl: ts.NamedDeclaration): boolean => {
    const at = holder(decl);
    if (ts.isParameter(at)) return isTinyLambda(at.parent) || isComparator(at.parent as ts.SignatureDeclaration);
    if (ts.isVariableDeclaration(at)) return ts.isCatchClause(at.parent) || isLoopHead(at.parent.parent);
    return false;
  };
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isPropertyDeclaration(node) || ts.isBindingElement(node)) &&
      ts.isIdentifier(node.name) &&
      node.name.text.length === 1 &&
      !['_', 'i', 'j'].includes(node.name.text) &&
      !allowed.has(node.name.text) &&
      !explained(node)
    ) {
      found.push(`${sf.getLineAndCharacterOfPosition(node.name.getStart()).line + 1}:${node.name.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}
