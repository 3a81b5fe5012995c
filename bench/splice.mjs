#!/usr/bin/env node
// bench/run.sh's helper: puts one benchmark's Markdown section (FILE) into docs/benchmarks.md between
// its markers, <!-- bench:NAME --> and <!-- /bench:NAME -->, replacing what was there (or adding it
// at the end), with the day and machine it was measured on: a benchmark re-run alone leaves the
// others' figures, and their dates, as they were.
//   node bench/splice.mjs NAME FILE
import {cpus} from 'node:os'
import {readFileSync, writeFileSync} from 'node:fs'

const [name, file] = process.argv.slice(2)
const doc = 'docs/benchmarks.md'
const text = readFileSync(doc, 'utf8')
const open = `<!-- bench:${name} -->`
const close = `<!-- /bench:${name} -->`
const measured = `_Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores, Node ${process.version}._`
const section = `${open}\n${readFileSync(file, 'utf8').trim()}\n\n${measured}\n${close}`
const start = text.indexOf(open)
const end = text.indexOf(close)
const next =
  start >= 0 && end > start
    ? text.slice(0, start) + section + text.slice(end + close.length)
    : `${text.trimEnd()}\n\n${section}\n`
writeFileSync(doc, next)
