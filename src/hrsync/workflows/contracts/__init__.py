"""The Oneflow and Flex HRM contract write-back as pure decisions: which steps an event asks for,
the data fields of an employee, who joins the contract, what to write back on signing and
under which name a PDF is filed. No IO: `hrsync.app.contracts` carries the decisions out."""
