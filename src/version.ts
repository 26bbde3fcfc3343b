// Tool name and version recorded in written files' metadata and in reports.
export const TOOL_NAME = 'checkpoint-aligner';
export const VERSION = '0.1.0';
