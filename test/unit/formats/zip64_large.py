"""Write sparse PyTorch zip checkpoints larger than 4 GiB, which need ZIP64, for zip64Large.test.ts.

Usage: /usr/bin/python3 zip64_large.py FOLDER [--check-crc]

Writes into FOLDER:
- large.pt: a state dict of four F32 tensors. `big` is [1100000, 1000], 4.4e9 bytes, so its sizes need
  64 bits. The views `tail` (big[-2:]) and `corner` (big[-2:, -3:].t()) lie near the end of big's storage,
  and the record of `after` ([6]) lies past 4 GiB. Big's data is a hole except its last two rows, so the
  file takes about 20 KiB of disk on ext4.
- locator-past-end.pt: large.pt without big's data region, so the ZIP64 end of central directory locator, like
  every offset after big, points past the end of the file.
- header-past-end.pt: large.pt with the local header offset of `after` in the central directory moved past the
  end of the file.
- size-past-end.pt: large.pt with big's sizes in the central directory declared 2^40 bytes.

Records follow PyTorch's layout: data 64-byte aligned by a padding extra field with id "FB", data.pkl pickled
with protocol 2 as torch.save pickles a state dict. ZIP64 fields follow PKWARE's APPNOTE.TXT. The extra field
with id 0x0001 lists the uncompressed size, compressed size and local header offset in that order. Each value
is present only when its header field is the marker 0xFFFFFFFF, but a local header's field contains both
sizes. The central directory is followed by the ZIP64 end of central directory record, its locator and the
classic end record.

Checks before printing: torch unpickles data.pkl to the intended shapes, strides and storage offsets on the meta
device, where no storage is allocated. Python's zipfile lists the sizes, CRCs and offsets intended, and reads the
small records back with their CRC-32 checked. --check-crc also reads all of big through zipfile to check its
CRC-32: 4.4e9 bytes of holes, 12 s on a 2-core VM with ext4.

Prints one JSON object: the file paths, the record offsets, the expected tensor entries and values.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import time
import zipfile
import zlib

import torch

ROWS = 1_100_000
COLUMNS = 1000
BIG_BYTES = ROWS * COLUMNS * 4
# Rows at the end of big that are written with values; the rest of big's data is a hole that reads as zeros.
WRITTEN_ROWS = 2
AFTER_VALUES = [1.5, -2.25, 3.125, -0.5, 1024.0, 7.75]
ALIGNMENT = 64
ZIP64_MARKER = 0xFFFFFFFF
# Offset and size written by the corrupt variants: far past the end of a 4.4 GB file.
BAD_HEADER_OFFSET = 1 << 36
BAD_BIG_BYTES = 1 << 40
# A sparse large.pt takes about 20 KiB of disk, so more than this means the file system filled the hole.
MAX_ALLOCATED_BYTES = 16 << 20
CRC32_POLYNOMIAL = 0xEDB88320


def tail_values():
    """Values of big's last WRITTEN_ROWS rows in C order; all non-zero and exact in float32."""
    count = WRITTEN_ROWS * COLUMNS
    return [(index - count // 2) * 0.5 + 0.25 for index in range(count)]


def gf2_apply(matrix, vector):
    """Multiply a 32x32 GF(2) matrix, given as its 32 columns, by a 32-bit vector."""
    result = 0
    column = 0
    while vector:
        if vector & 1:
            result ^= matrix[column]
        vector >>= 1
        column += 1
    return result


def gf2_square(matrix):
    return [gf2_apply(matrix, column) for column in matrix]


def crc32_of_zeros(length):
    """Return zlib.crc32(bytes(length)) in O(log length) steps instead of reading `length` bytes.

    Feeding a zero bit into the reflected CRC register is linear over GF(2), so `length` zero bytes are the
    8 * length-th power of that one-bit operator, found by repeated squaring.
    """
    # Column j is the register after one zero bit, starting from the register 1 << j.
    operator = [CRC32_POLYNOMIAL] + [1 << (bit - 1) for bit in range(1, 32)]
    for _ in range(3):
        operator = gf2_square(operator)
    register = 0xFFFFFFFF
    while length:
        if length & 1:
            register = gf2_apply(operator, register)
        operator = gf2_square(operator)
        length >>= 1
    return register ^ 0xFFFFFFFF


class Record:
    """A stored zip record: `length` bytes, of which only the `pieces` (offset in the record, bytes) are written."""

    def __init__(self, name, length, pieces, crc, force_zip64=False):
        self.name = name
        self.length = length
        self.pieces = pieces
        self.crc = crc
        # ZIP64 fields are valid on small records too, and a reader must take each value from the extra field
        # whenever the header field is the marker.
        self.force_zip64 = force_zip64
        self.header_offset = None
        self.data_offset = None

    @staticmethod
    def of_bytes(name, data, force_zip64=False):
        return Record(name, len(data), [(0, data)], zlib.crc32(data), force_zip64)


class StorageRef:
    def __init__(self, key, numel):
        self.key = key
        self.numel = numel


class TensorRef:
    """Pickles like a CPU float tensor without allocating its storage."""

    def __init__(self, storage, storage_offset, shape, stride):
        self.storage = storage
        self.storage_offset = storage_offset
        self.shape = shape
        self.stride = stride

    def __reduce__(self):
        arguments = (self.storage, self.storage_offset, self.shape, self.stride, False, collections.OrderedDict())
        return (torch._utils._rebuild_tensor_v2, arguments)


class StatePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ('storage', torch.FloatStorage, obj.key, 'cpu', obj.numel)
        return None


def state_dict():
    big = StorageRef('0', ROWS * COLUMNS)
    after = StorageRef('1', len(AFTER_VALUES))
    last_rows = (ROWS - WRITTEN_ROWS) * COLUMNS
    state = collections.OrderedDict()
    state['big'] = TensorRef(big, 0, (ROWS, COLUMNS), (COLUMNS, 1))
    state['tail'] = TensorRef(big, last_rows, (WRITTEN_ROWS, COLUMNS), (COLUMNS, 1))
    state['corner'] = TensorRef(big, last_rows + COLUMNS - 3, (3, WRITTEN_ROWS), (1, COLUMNS))
    state['after'] = TensorRef(after, 0, (len(AFTER_VALUES),), (1,))
    # Module.state_dict() sets this attribute, and torch.save pickles it with a BUILD opcode.
    state._metadata = collections.OrderedDict([('', {'version': 1})])
    return state


def pickle_state(state):
    buffer = io.BytesIO()
    StatePickler(buffer, protocol=2).dump(state)
    return buffer.getvalue()


class MetaUnpickler(pickle.Unpickler):
    """Unpickles data.pkl with torch's own functions on storages of the meta device, which allocate no memory."""

    def persistent_load(self, pid):
        tag, storage_type, key, location, numel = pid
        assert (tag, location) == ('storage', 'cpu'), pid
        untyped = torch.UntypedStorage(numel * 4, device='meta')
        return torch.storage.TypedStorage(wrap_storage=untyped, dtype=storage_type.dtype)


def check_with_torch(pickle_bytes, state):
    loaded = MetaUnpickler(io.BytesIO(pickle_bytes)).load()
    assert list(loaded) == list(state), list(loaded)
    for name, ref in state.items():
        tensor = loaded[name]
        actual = (tuple(tensor.shape), tensor.stride(), tensor.storage_offset(), tensor.dtype)
        intended = (ref.shape, ref.stride, ref.storage_offset, torch.float32)
        assert actual == intended, (name, actual, intended)


def local_header(record, offset):
    """Return the local header of `record` placed at `offset`, padded so that its data is 64-byte aligned."""
    name = record.name.encode()
    zip64 = record.length >= ZIP64_MARKER or record.force_zip64
    extra = b''
    if zip64:
        # With a ZIP64 extra field, the local header sizes are markers and the field contains both sizes.
        extra = struct.pack('<HHQQ', 0x0001, 16, record.length, record.length)
    padding = -(offset + 30 + len(name) + len(extra) + 4) % ALIGNMENT
    extra += struct.pack('<HH', 0x4246, padding) + b'Z' * padding
    size_field = ZIP64_MARKER if zip64 else record.length
    fixed = struct.pack('<IHHHHHIIIHH', 0x04034b50, 45 if zip64 else 20, 0, 0, 0, 0x21, record.crc,
                        size_field, size_field, len(name), len(extra))
    return fixed + name + extra


def central_entry(record, header_offset, declared_length):
    """Return the central directory entry of `record`, with values that need 64 bits in its ZIP64 extra field."""
    name = record.name.encode()
    sizes_zip64 = declared_length >= ZIP64_MARKER or record.force_zip64
    offset_zip64 = header_offset >= ZIP64_MARKER or record.force_zip64
    values = []
    if sizes_zip64:
        values += [declared_length, declared_length]
    if offset_zip64:
        values.append(header_offset)
    extra = struct.pack('<HH', 0x0001, 8 * len(values)) + struct.pack('<%dQ' % len(values), *values) if values else b''
    size_field = ZIP64_MARKER if sizes_zip64 else declared_length
    offset_field = ZIP64_MARKER if offset_zip64 else header_offset
    version = 45 if values else 20
    fixed = struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, version, version, 0, 0, 0, 0x21, record.crc,
                        size_field, size_field, len(name), len(extra), 0, 0, 0, 0, offset_field)
    return fixed + name + extra


def write_archive(path, records, header_offsets=None, declared_lengths=None):
    """Write `records` to `path`, leaving unwritten bytes as holes.

    `header_offsets` and `declared_lengths` replace the values that the central directory declares, by record name.
    """
    header_offsets = header_offsets or {}
    declared_lengths = declared_lengths or {}
    with open(path, 'wb') as file:
        for record in records:
            record.header_offset = file.tell()
            file.write(local_header(record, record.header_offset))
            record.data_offset = file.tell()
            for offset, data in record.pieces:
                file.seek(record.data_offset + offset)
                file.write(data)
            file.seek(record.data_offset + record.length)
        directory_offset = file.tell()
        for record in records:
            offset = header_offsets.get(record.name, record.header_offset)
            file.write(central_entry(record, offset, declared_lengths.get(record.name, record.length)))
        directory_size = file.tell() - directory_offset
        zip64_end_offset = file.tell()
        file.write(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, len(records), len(records),
                               directory_size, directory_offset))
        file.write(struct.pack('<IIQI', 0x07064b50, 0, zip64_end_offset, 1))
        # Every field of the classic end record is the marker, so readers must take the ZIP64 record's values.
        file.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, ZIP64_MARKER, ZIP64_MARKER, 0))
    return zip64_end_offset


def build_records(pickle_bytes):
    tail = struct.pack('<%df' % (WRITTEN_ROWS * COLUMNS), *tail_values())
    big_crc = zlib.crc32(tail, crc32_of_zeros(BIG_BYTES - len(tail)))
    return [
        Record.of_bytes('archive/data.pkl', pickle_bytes),
        Record.of_bytes('archive/byteorder', b'little'),
        Record('archive/data/0', BIG_BYTES, [(BIG_BYTES - len(tail), tail)], big_crc),
        Record.of_bytes('archive/data/1', struct.pack('<%df' % len(AFTER_VALUES), *AFTER_VALUES), force_zip64=True),
        Record.of_bytes('archive/version', b'3\n'),
    ]


def check_with_zipfile(path, records, header_offsets=None, declared_lengths=None):
    """Check that Python's zipfile lists the intended values, then read back every record under 1 MiB.

    Variants with replaced offsets or lengths are only listed, because reading them fails by design.
    """
    header_offsets = header_offsets or {}
    declared_lengths = declared_lengths or {}
    with zipfile.ZipFile(path) as archive:
        listed = {info.filename: info for info in archive.infolist()}
        assert list(listed) == [record.name for record in records], list(listed)
        for record in records:
            info = listed[record.name]
            length = declared_lengths.get(record.name, record.length)
            intended = (length, length, header_offsets.get(record.name, record.header_offset), record.crc)
            actual = (info.file_size, info.compress_size, info.header_offset, info.CRC)
            assert actual == intended, (path, record.name, actual, intended)
        if header_offsets or declared_lengths:
            return
        for record in records:
            if record.length < 1 << 20:
                assert archive.read(record.name) == record.pieces[0][1], record.name


def check_sparse(path):
    allocated = os.stat(path).st_blocks * 512
    if allocated > MAX_ALLOCATED_BYTES:
        os.remove(path)
        sys.exit(f'{path}: the file system allocated {allocated} bytes for a sparse file of holes; '
                 'set TMPDIR to a folder on a file system with sparse files (ext4, xfs, btrfs, tmpfs)')
    return allocated


def cut_range(source, target, start, end):
    """Copy `source` to `target` without bytes [start, end), reading only the bytes kept."""
    with open(source, 'rb') as input_file, open(target, 'wb') as output:
        output.write(input_file.read(start))
        input_file.seek(end)
        output.write(input_file.read())


def span_bytes(shape, stride):
    return (1 + sum((size - 1) * step for size, step in zip(shape, stride))) * 4


def main():
    folder = sys.argv[1]
    started = time.perf_counter()
    for length in (0, 1, 7, 4096, 1_000_003):
        assert crc32_of_zeros(length) == zlib.crc32(bytes(length)), length

    state = state_dict()
    pickle_bytes = pickle_state(state)
    check_with_torch(pickle_bytes, state)

    good = os.path.join(folder, 'large.pt')
    records = build_records(pickle_bytes)
    zip64_end_offset = write_archive(good, records)
    allocated = check_sparse(good)
    check_with_zipfile(good, records)
    by_name = {record.name: record for record in records}
    big, after = by_name['archive/data/0'], by_name['archive/data/1']

    locator_past_end = os.path.join(folder, 'locator-past-end.pt')
    cut_range(good, locator_past_end, big.data_offset, big.data_offset + big.length)

    header_past_end = os.path.join(folder, 'header-past-end.pt')
    bad_offsets = {after.name: BAD_HEADER_OFFSET}
    variant = build_records(pickle_bytes)
    write_archive(header_past_end, variant, header_offsets=bad_offsets)
    check_sparse(header_past_end)
    check_with_zipfile(header_past_end, variant, header_offsets=bad_offsets)

    size_past_end = os.path.join(folder, 'size-past-end.pt')
    bad_lengths = {big.name: BAD_BIG_BYTES}
    variant = build_records(pickle_bytes)
    write_archive(size_past_end, variant, declared_lengths=bad_lengths)
    check_sparse(size_past_end)
    check_with_zipfile(size_past_end, variant, declared_lengths=bad_lengths)

    crc_seconds = None
    if '--check-crc' in sys.argv[2:]:
        crc_started = time.perf_counter()
        with zipfile.ZipFile(good) as archive:
            assert archive.testzip() is None
        crc_seconds = time.perf_counter() - crc_started

    storage_data = {'0': big.data_offset, '1': after.data_offset}
    tensors = [{
        'name': name, 'dtype': 'F32', 'shape': list(ref.shape),
        'offset': storage_data[ref.storage.key] + ref.storage_offset * 4,
        'length': span_bytes(ref.shape, ref.stride),
    } for name, ref in state.items()]
    json.dump({
        'files': {'large': good, 'locatorPastEnd': locator_past_end, 'headerPastEnd': header_past_end,
                  'sizePastEnd': size_past_end},
        'fileSize': os.path.getsize(good),
        'allocatedBytes': allocated,
        'cutFileSize': os.path.getsize(locator_past_end),
        'zip64EndOffset': zip64_end_offset,
        'records': {record.name: {'headerOffset': record.header_offset, 'dataOffset': record.data_offset,
                                  'length': record.length} for record in records},
        'badHeaderOffset': BAD_HEADER_OFFSET,
        'badBigBytes': BAD_BIG_BYTES,
        'tensors': tensors,
        'values': {'after': AFTER_VALUES, 'tail': tail_values()},
        'seconds': {'total': time.perf_counter() - started, 'crcCheck': crc_seconds},
    }, sys.stdout)


if __name__ == '__main__':
    main()
