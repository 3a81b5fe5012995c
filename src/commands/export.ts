import {Args, Flags} from '@oclif/core'
import type {ExportResult} from '../core/run/export.js'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Export extends MlxCommand {
  static override summary =
    "Export a run's model (ONNX, TorchScript, torch.export), check each form's answers against PyTorch, and time it."
  static override description = `Rebuilds the model from the run's config and checkpoint, exports it, and checks parity on validation examples: the example batch and one of another size the exporter never saw (ONNX runs in ONNX Runtime; TorchScript and .pt2 are loaded back). The largest absolute and relative difference and the output that holds it are printed, stored with the run (mlx show) and judged against --tolerance. Latency p50/p95 at batch 1 and at --batch-size and throughput, for eager PyTorch and each form, become the run's cost/latency_ms_b1/<format>... metrics (compare, --where, --sort). Files go to .mlx/runs/<id>/export/, which is replaced; nothing else of the run is changed.

Exit codes: 0 every format exported with parity; 1 a format failed to export or its answers differ (the others still run); 2 bad input (unknown run, no checkpoint, unknown format, ONNX Runtime missing).`
  static override examples = [
    '<%= config.bin %> export 3fa9',
    '<%= config.bin %> export digits-cnn --format onnx --batch-size 1 --no-dynamic-batch',
    '<%= config.bin %> export digits-cnn --checkpoint last --tolerance 1e-5 --json',
  ]
  static override args = {
    run: Args.string({
      description: 'run id, unique id prefix, or name (the newest run of that name; stderr says which)',
      required: true,
    }),
  }
  static override flags = {
    format: Flags.string({
      char: 'f',
      description: 'comma-separated formats: onnx, torchscript, export (torch.export, .pt2)',
      default: 'onnx,torchscript,export',
    }),
    checkpoint: Flags.string({
      description: 'which checkpoint (default: best where the run kept one, else last)',
      options: ['best', 'last'],
    }),
    'batch-size': Flags.integer({description: "example batch size (default: the run's data.batch_size)", min: 1}),
    'dynamic-batch': Flags.boolean({
      description: 'the exported graphs take any batch size (--no-dynamic-batch: fixed at --batch-size)',
      default: true,
      allowNo: true,
    }),
    tolerance: Flags.string({description: 'largest difference allowed, absolute and relative (fp32)', default: '1e-4'}),
    bench: Flags.boolean({description: 'measure latency and throughput', default: true, allowNo: true}),
    device: Flags.string({description: 'cpu, cuda or cuda:N', default: 'cpu'}),
    python: Flags.string({description: 'Python interpreter (default: as mlx run chooses)'}),
  }

  async run(): Promise<ExportResult> {
    const {args, flags} = await this.parse(Export)
    const {checkExported, exportRun, exportTable, parseFormats, parseTolerance, prepareExport} =
      await import('../core/run/export.js')
    const options = {
      formats: parseFormats(flags.format),
      checkpoint: flags.checkpoint as 'best' | 'last' | undefined,
      batchSize: flags['batch-size'],
      dynamicBatch: flags['dynamic-batch'],
      tolerance: parseTolerance(flags.tolerance),
      bench: flags.bench,
      device: flags.device,
      python: flags.python,
    }
    const {root, prepared} = await withRuns(async ({project, store}) => ({
      root: project.root,
      prepared: await prepareExport(project, store, args.run, options),
    }))
    this.say(
      `exporting ${prepared.run.name} (${prepared.run.id}) from ${prepared.checkpoint ?? 'the checkpoint its script registers'}: ${options.formats.join(', ')}`,
    )
    const result = await exportRun(root, prepared, (work) => withRuns(({store}) => work(store), 'write'))
    if (!this.jsonEnabled()) this.log(exportTable(result))
    return checkExported(result)
  }
}
