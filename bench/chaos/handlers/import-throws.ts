// Poison: a module that throws while it is imported, so its handler never exists. The job fails
// like one whose handler threw: `<queue>-RangeError` (the error's name).
export {};

throw new RangeError('import-throws: this module throws at import');
