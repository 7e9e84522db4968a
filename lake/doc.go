// Package lake groups the storage side of adlake: the object stores landing
// data is read from ([objstore]), the layout of the landing zone
// ([landing]), and the Iceberg catalog with the ledger of what has been
// committed ([catalog]). Nothing under lake/ knows about feeds' business
// rules; those live in jobs/.
package lake
