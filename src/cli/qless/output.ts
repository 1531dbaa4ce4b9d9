// Where results go: one JSON document with --json, readable text otherwise. Writes wait for
// the data to be handed to the OS, so exiting right after loses nothing on a pipe.

function isClosedPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'EPIPE';
}

let pipeGuarded = false;

/** A reader that went away (`qless jobs complete | head`) ends the output, not the command with a crash. */
function guardPipes(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error) => {
      if (!isClosedPipe(error)) throw error;
    });
  }
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  guardPipes();
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error && !isClosedPipe(error) ? reject(error) : resolve()));
  });
}

export class Output {
  readonly json: boolean;

  constructor(json: boolean) {
    this.json = json;
  }

  /** The result of a command: `document` as JSON with --json, else the text `human()` makes. */
  async result(document: unknown, human: () => string): Promise<void> {
    if (this.json) await this.document(document);
    else await this.text(human());
  }

  async document(document: unknown): Promise<void> {
    await write(process.stdout, `${JSON.stringify(document, null, 2)}\n`);
  }

  /** One compact JSON line (streams such as `watch --json`). */
  async jsonLine(document: unknown): Promise<void> {
    await write(process.stdout, `${JSON.stringify(document)}\n`);
  }

  async text(text: string): Promise<void> {
    if (text === '') return;
    await write(process.stdout, text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Text exactly as given, without a newline added. */
  async raw(text: string): Promise<void> {
    await write(process.stdout, text);
  }

  /** Progress notes and warnings, never part of the result. */
  async note(text: string): Promise<void> {
    await write(process.stderr, `${text}\n`);
  }
}
