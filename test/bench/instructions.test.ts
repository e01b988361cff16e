import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { sumAnnotate } from '../../bench/instructions.js'

// The shape callgrind_annotate prints (valgrind 3.19): self counts with thousands separators.
const sample = `--------------------------------------------------------------------------------
Ir                   
--------------------------------------------------------------------------------
812,357,512 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                   file:function
--------------------------------------------------------------------------------
30,662,711 ( 3.77%)  ???:Builtins_KeyedLoadIC_Megamorphic [/usr/bin/node]
 8,506,659 ( 1.05%)  ???:v8::internal::compiler::GraphReducer::ReduceTop() [/usr/bin/node]
 7,434,000 ( 0.92%)  ???:0x000037ac0a17b040 [???]
 1,528,000 ( 0.19%)  ???:v8::internal::StringStream::Add(v8::base::Vector<char const>) [/usr/bin/node]
`

describe('bench:instructions', () => {
  test('sums the self counts and sets the compiler and code-logging work apart', () => {
    assert.deepEqual(sumAnnotate(sample), { total: 30_662_711 + 8_506_659 + 7_434_000 + 1_528_000, startup: 8_506_659 + 1_528_000 })
  })

  test('the PROGRAM TOTALS line and headers are not counted', () => {
    assert.deepEqual(sumAnnotate('812,357,512 (100.0%)  PROGRAM TOTALS\nIr file:function\n'), { total: 0, startup: 0 })
  })
})
