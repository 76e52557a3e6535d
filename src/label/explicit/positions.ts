/**
 * @module label/explicit/positions
 * Where an image notice may go (GB 45438 §5.2: a corner or an edge), in a module of its own so
 * that a command can check `--position` without loading the canvas that draws the notice.
 */

/** Where an image notice goes: a corner, or the middle of an edge. */
export type ImagePosition = 'top-left' | 'top' | 'top-right' | 'left' | 'right' | 'bottom-left' | 'bottom' | 'bottom-right';

export const IMAGE_POSITIONS: readonly ImagePosition[] = ['top-left', 'top', 'top-right', 'left', 'right', 'bottom-left', 'bottom', 'bottom-right'];
