// Package schema holds adlake's contracts: the Avro writer schemas that the
// RTB bidder produces (copied from the producers' contract, embedded so the
// binary needs no files at run time) and the Iceberg schemas of every table
// adlake publishes.
//
// Invariants:
//   - Field IDs are assigned once, deterministically, in declaration order;
//     a column is never renumbered. New columns are appended (Iceberg schema
//     evolution), never inserted.
//   - Namespaces contain no dots (Trino, Athena and pyiceberg disagree on
//     how to escape them).
//   - Every bronze table carries the lineage columns of [Lineage] and an
//     `_extra` column holding, as a JSON object, any field the contract does
//     not name, so nothing a producer sends is lost.
package schema
