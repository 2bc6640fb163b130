// Its own module so the CLI can recognise a configuration error without loading the configuration
// machinery (and its YAML parser) for commands that never read a config file.
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}
