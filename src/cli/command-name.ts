// Which command a command line names, decided before any command module is loaded.

/** The first word after the program that is not an option: the command (undefined for none). */
export function commandName(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith('-'));
}
