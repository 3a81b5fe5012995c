/** A run or experiment name: printable text on one line, no slashes (names appear in file headers, tables and paths). */
export const NAME_PATTERN = /^[^\s/\\\p{Cc}][^/\\\p{Cc}]*$/u
export const NAME_RULE = 'a name is one line of text without slashes, not starting with a space'
