/**
 * NO_COLOR (https://no-color.org) turns colours off. The chalk that ink uses reads only
 * FORCE_COLOR, once, when it loads: this module is imported before ink so it sees the
 * setting.
 */
if (process.env.NO_COLOR) process.env.FORCE_COLOR = '0'
