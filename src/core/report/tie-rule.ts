/** How `mlx compare` breaks a tie on the best value of the judged metric (its own module: `--help` prints it without loading the comparison). */
export const TIE_RULE = 'ties go to the better last value, then fewer steps to the best, then the earlier start'
