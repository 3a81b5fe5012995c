/**
 * Stands in for `react-devtools-core` in the bundled UI (dist/ui/render.js): ink imports it
 * only when DEV=true, and mlx does not ship it. With DEV=true the bundle connects nowhere.
 */
export default {connectToDevTools: () => undefined}
