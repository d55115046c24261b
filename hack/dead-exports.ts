import { relative } from "node:path";
import ts from "typescript";

/**
 * For `make dead-code` (hack/dead-code.ts): the exports of the judged files that no file imports
 * (tests, benchmarks and hack/ included) and that are dead where they stand: a declaration its own file
 * does not use either (code nothing runs), or a re-export (`export { x } from`, `export { imported }`)
 * nobody imports through it. Reads the TypeScript program of a tsconfig (offline: the compiler from
 * node_modules); follows re-exports, `export *` barrels, namespace and dynamic imports.
 */
export interface DeadExport {
  /** Relative to the root. */
  readonly file: string;
  readonly name: string;
}

export interface DeadCodeOptions {
  readonly root: string;
  readonly tsconfig: string;
  /** Which files' exports are judged (relative path); the rest only import. */
  readonly judged: (file: string) => boolean;
}

export function findDeadExports(options: DeadCodeOptions): DeadExport[] {
  const program = createProgram(options.tsconfig);
  const checker = program.getTypeChecker();
  const files = program.getSourceFiles().filter((file) => !file.isDeclarationFile);
  const imported = importedSymbols(files, checker);
  const dead: DeadExport[] = [];
  for (const file of files) {
    const path = relative(options.root, file.fileName);
    const module = checker.getSymbolAtLocation(file);
    if (!module || !options.judged(path)) continue;
    for (const symbol of checker.getExportsOfModule(module)) {
      const declaration = symbol.declarations?.[0];
      if (declaration?.getSourceFile() !== file || symbol.name === "default") continue;
      if (imported.has(symbol) || usedInFile(file, symbol, checker)) continue;
      dead.push({ file: path, name: symbol.name });
    }
  }
  return dead.sort((a, b) => a.file.localeCompare(b.file) || a.name.localeCompare(b.name));
}

function createProgram(tsconfig: string): ts.Program {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    tsconfig,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error(`cannot read ${tsconfig}`);
  return ts.createProgram(parsed.fileNames, parsed.options);
}

/** Every export symbol some import reaches, with each re-export it went through on the way. */
function importedSymbols(files: readonly ts.SourceFile[], checker: ts.TypeChecker): Set<ts.Symbol> {
  const reached = new Set<ts.Symbol>();
  const follow = (start: ts.Symbol) => {
    let symbol: ts.Symbol | undefined = start;
    for (let hops = 0; symbol && hops < 32 && !reached.has(symbol); hops++) {
      reached.add(symbol);
      if (!(symbol.flags & ts.SymbolFlags.Alias)) break;
      symbol = checker.getImmediateAliasedSymbol(symbol);
    }
  };
  const visit = (node: ts.Node) => {
    for (const symbol of importTargets(node, checker)) follow(symbol);
    ts.forEachChild(node, visit);
  };
  for (const file of files) visit(file);
  return reached;
}

/** The exports an import declaration or a dynamic `import()` takes (all of them for `* as`). */
function importTargets(node: ts.Node, checker: ts.TypeChecker): ts.Symbol[] {
  const exportsOf = (specifier: ts.Expression) => {
    const module = checker.getSymbolAtLocation(specifier);
    return module ? checker.getExportsOfModule(module) : [];
  };
  if (isDynamicImport(node)) return exportsOf(node.arguments[0] as ts.Expression);
  if (!ts.isImportDeclaration(node) || !node.importClause) return [];
  const exports = exportsOf(node.moduleSpecifier);
  const { name, namedBindings } = node.importClause;
  if (namedBindings && ts.isNamespaceImport(namedBindings)) return exports;
  const names = name ? ["default"] : [];
  if (namedBindings)
    names.push(...namedBindings.elements.map((element) => (element.propertyName ?? element.name).text));
  return exports.filter((symbol) => names.includes(symbol.escapedName as string));
}

function isDynamicImport(node: ts.Node): node is ts.CallExpression {
  return (
    ts.isCallExpression(node) &&
    node.expression.kind === ts.SyntaxKind.ImportKeyword &&
    node.arguments.length > 0
  );
}

/** Whether an identifier of the file, other than the declaration's own name, refers to the export. */
function usedInFile(file: ts.SourceFile, symbol: ts.Symbol, checker: ts.TypeChecker): boolean {
  let local = symbol;
  if (symbol.flags & ts.SymbolFlags.Alias) {
    // `export { x }` names a declaration of this file; `export { x } from "./y.js"` is a re-export
    // nobody imports.
    const specifier = symbol.declarations?.[0];
    if (!specifier || !ts.isExportSpecifier(specifier) || specifier.parent.parent.moduleSpecifier)
      return false;
    local = checker.getAliasedSymbol(symbol);
  }
  const names = new Set(local.declarations?.map((declaration) => ts.getNameOfDeclaration(declaration)));
  let used = false;
  const visit = (node: ts.Node) => {
    if (used || ts.isExportSpecifier(node)) return;
    if (ts.isIdentifier(node) && node.text === local.name && !names.has(node)) {
      const target = checker.getSymbolAtLocation(node);
      used = target !== undefined && (target === local || checker.getExportSymbolOfSymbol(target) === local);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return used;
}
