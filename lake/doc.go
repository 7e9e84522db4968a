// Package lake groups the storage side of adlake: the object stores
// landing data is read from ([objstore]), the layout of the landing zone
// ([landing]), the Iceberg catalog ([catalog]) with the exactly-once
// ledger kept in the tables ([ledger]), locks ([lock]), the one write path
// of data files ([datafile]), ops rows by column name ([rows]), the run
// ledger ops.runs ([runs]) and secret redaction ([secret]). Nothing under
// lake/ knows about feeds' business rules; those live in jobs/.
package lake
