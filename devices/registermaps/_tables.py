"""Short names for the four Modbus tables, data types and access, so map tables read as tables."""

from cosim.comm.modbus.datamodel import ModbusTable
from devices.registermap import Access, DataType

IR = ModbusTable.INPUT_REGISTERS
HR = ModbusTable.HOLDING_REGISTERS
CO = ModbusTable.COILS
DI = ModbusTable.DISCRETE_INPUTS

BOOL, U16, I16, U32, I32, F32, STRING = (
    DataType.BOOL, DataType.U16, DataType.I16, DataType.U32, DataType.I32, DataType.F32, DataType.STRING,
)
RW = Access.READ_WRITE
