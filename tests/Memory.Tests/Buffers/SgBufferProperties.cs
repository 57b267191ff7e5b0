using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaSg.Memory.Tests.Buffers;

public sealed class SgBufferProperties
{
    private static readonly int PageSize = Environment.SystemPageSize;

    public enum Kind
    {
        Alloc,
        AddRef,
        Put,
        Prepare,
        Finish,
        Vaddr,
        Kmap,
        CpuCopy,
        DeviceIo,
        MmapOpen,
        MmapClose,
        UserptrGet,
        UserptrPut,
    }

    /// <summary>One step; A, B, C are picked modulo whatever is live when the step runs.</summary>
    public sealed record Op(Kind Kind, int A, int B, int C, DmaDirection Dir)
    {
        public override string ToString() => $"{Kind}({A},{B},{C},{Dir})";
    }

    private static Gen<Op> OpGen =>
        from kind in Gen.Frequency(
            (6, Gen.Constant(Kind.Alloc)), (3, Gen.Constant(Kind.AddRef)), (5, Gen.Constant(Kind.Put)),
            (2, Gen.Constant(Kind.Prepare)), (2, Gen.Constant(Kind.Finish)), (2, Gen.Constant(Kind.Vaddr)),
            (2, Gen.Constant(Kind.Kmap)), (2, Gen.Constant(Kind.CpuCopy)), (3, Gen.Constant(Kind.DeviceIo)),
            (3, Gen.Constant(Kind.MmapOpen)), (3, Gen.Constant(Kind.MmapClose)),
            (3, Gen.Constant(Kind.UserptrGet)), (3, Gen.Constant(Kind.UserptrPut)))
        from a in Gen.Choose(0, 1000)
        from b in Gen.Choose(0, 1000)
        from c in Gen.Choose(-1, 1)
        from dir in Gen.Elements(DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional)
        select new Op(kind, a, b, c, dir);

    private static Arbitrary<Op[]> OpsArb =>
        Arb.From(Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(OpGen, n)), ShrinkOps);

    [Property(MaxTest = 100)]
    public Property Any_sequence_frees_back_to_the_initial_arena_with_clean_devices() =>
        Prop.ForAll(OpsArb, ops =>
        {
            using var world = new World();
            foreach (var op in ops)
            {
                world.Run(op);
                world.CheckInvariants();
            }

            world.TearDown();
            world.CheckClean();
        });

    private static IEnumerable<Op[]> ShrinkOps(Op[] ops)
    {
        for (int i = 0; i < ops.Length; i++)
        {
            yield return [.. ops[..i], .. ops[(i + 1)..]];
        }
    }

    /// <summary>The system under test plus the model: which buffers live, who holds their refs.</summary>
    private sealed class World : IDisposable
    {
        private const int UserBytes = 16 * 4096;

        private readonly PageArena _arena = BufferTestArena.Create(128, maxOrder: 5);
        private readonly FreeListSnapshot _initial;
        private readonly DmaApiChecker[] _devices = [TestDevices.Coherent(), TestDevices.Iommu(), TestDevices.Bounce(poolSize: 2L << 20)];
        private readonly List<Held> _buffers = [];
        private readonly List<UserMapping> _mappings = [];
        private readonly unsafe byte* _userMemory = (byte*)NativeMemory.AlignedAlloc(UserBytes, (nuint)Environment.SystemPageSize);
        private readonly byte[] _userArray = GC.AllocateArray<byte>(UserBytes, pinned: true);
        private int _serial;

        public World() => _initial = _arena.Snapshot();

        public void Run(Op op)
        {
            switch (op.Kind)
            {
                case Kind.Alloc:
                    Alloc(op);
                    break;
                case Kind.UserptrGet:
                    GetUserptr(op);
                    break;
                case Kind.MmapClose when _mappings.Count > 0:
                    var mapping = _mappings[op.A % _mappings.Count];
                    _mappings.Remove(mapping);
                    Close(mapping);
                    break;
                default:
                    if (_buffers.Count > 0)
                    {
                        OnBuffer(op, _buffers[op.A % _buffers.Count]);
                    }

                    break;
            }
        }

        public void CheckInvariants()
        {
            long arenaPages = 0;
            foreach (var held in _buffers)
            {
                Assert.False(held.Buffer.IsReleased);
                Assert.Equal(held.OwnerRefs + _mappings.Count(m => m.Buffer == held.Buffer), held.Buffer.NumUsers);
                arenaPages += held.Buffer.IsUserptr ? 0 : held.Buffer.NumPages;
            }

            Assert.Equal(arenaPages, _arena.AllocatedPageCount);
            Assert.Equal(_buffers.Count, _devices.Sum(d => d.RefCount));
            Assert.Equal(_buffers.Count, _devices.Sum(d => d.LiveMappings));
            Assert.All(_devices, d => Assert.Empty(d.Violations));
        }

        public void TearDown()
        {
            foreach (var mapping in _mappings.ToArray())
            {
                _mappings.Remove(mapping);
                Close(mapping);
            }

            foreach (var held in _buffers.ToArray())
            {
                while (held.OwnerRefs > 0)
                {
                    Put(held);
                }
            }

            Assert.Empty(_buffers);
        }

        public void CheckClean()
        {
            Assert.Equal(_initial, _arena.Snapshot());
            Assert.Equal([_arena.BaseAddress], BufferTestArena.MappingsOf(_arena));
            foreach (var device in _devices)
            {
                SgBufferDeviceTests.AssertClean(device);
            }
        }

        public unsafe void Dispose()
        {
            foreach (var device in _devices)
            {
                device.Dispose();
            }

            _arena.Dispose();
            NativeMemory.AlignedFree(_userMemory);
        }

        private void Alloc(Op op)
        {
            // Sizes just below, at and just above a page boundary.
            long size = Math.Max(1, ((long)(1 + (op.B % 24)) * PageSize) + op.C);
            var device = _devices[op.A % _devices.Length];
            var before = _arena.Snapshot();
            int refsBefore = device.RefCount;
            try
            {
                var buf = SgBuffer.Allocate(_arena, device, size, op.Dir, $"buf#{++_serial}");
                Assert.Equal((size + PageSize - 1) / PageSize, buf.NumPages);
                Assert.All(buf.Cookie.Entries.ToArray(), e => Assert.True(e.Length <= device.MaxSegmentSize));
                _buffers.Add(new Held(buf));
            }
            catch (DmaSgException e) when (e.Error == DmaSgError.OutOfMemory)
            {
                // Arena or bounce pool exhausted: nothing may have changed.
                Assert.Equal(before, _arena.Snapshot());
                Assert.Equal(refsBefore, device.RefCount);
            }
        }

        private unsafe void GetUserptr(Op op)
        {
            var device = _devices[op.A % _devices.Length];
            int offset = op.B % (UserBytes / 2);
            int length = 1 + ((op.B * 7) % (UserBytes / 2 - 1)) + op.C + 1;
            int refsBefore = device.RefCount;
            try
            {
                var buf = op.C == 0
                    ? SgBuffer.GetUserptr(device, _userArray.AsMemory(offset, length), op.Dir, $"user#{++_serial}")
                    : SgBuffer.GetUserptr(device, (nint)(_userMemory + offset), length, op.Dir, $"user#{++_serial}");
                nint expected = op.C == 0 ? (nint)Unsafe.AsPointer(ref _userArray[offset]) : (nint)(_userMemory + offset);
                Assert.Equal(expected, buf.Vaddr());
                Assert.Equal((int)(expected & (PageSize - 1)), buf.Offset);
                Assert.Equal(length, buf.Size);
                Assert.True(buf.UserPages!.IsPinned);
                _buffers.Add(new Held(buf));
            }
            catch (DmaSgException e) when (e.Error == DmaSgError.OutOfMemory)
            {
                Assert.Equal(refsBefore, device.RefCount);
            }
        }

        private unsafe void OnBuffer(Op op, Held held)
        {
            var buf = held.Buffer;
            switch (op.Kind)
            {
                case Kind.AddRef when held.OwnerRefs > 0:
                    buf.AddRef();
                    held.OwnerRefs++;
                    break;
                case Kind.Put when held.OwnerRefs > 0:
                    Put(held);
                    break;
                case Kind.UserptrPut when buf.IsUserptr && held.OwnerRefs > 0:
                    Put(held);
                    break;
                case Kind.Prepare:
                    buf.Prepare();
                    break;
                case Kind.Finish:
                    buf.Finish();
                    break;
                case Kind.Vaddr:
                    nint va = buf.Vaddr();
                    Assert.Equal(va, buf.Vaddr());
                    break;
                case Kind.Kmap:
                    int pg = op.B % (buf.NumPages + 1);
                    if (pg == buf.NumPages)
                    {
                        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.Kmap(pg)).Error);
                    }
                    else
                    {
                        // kmap and vaddr are two views of the same page.
                        var probe = new byte[] { (byte)(op.A + 1) };
                        long at = Math.Max(0, ((long)pg * PageSize) - buf.Offset);
                        buf.CopyFromCpu(at, probe);
                        Assert.Equal(probe[0], *(byte*)(buf.Kmap(pg) + (nint)((at + buf.Offset) % PageSize)));
                        Assert.Equal(probe[0], *(byte*)(buf.Vaddr() + (nint)at));
                    }

                    break;
                case Kind.CpuCopy:
                    long start = op.B % buf.Size;
                    int n = (int)Math.Min(buf.Size - start, 1 + (op.A * 13));
                    var data = BufferTestArena.Pattern(n, op.A);
                    buf.CopyFromCpu(start, data);
                    var back = new byte[n];
                    buf.CopyToCpu(start, back);
                    Assert.Equal(data, back);
                    Assert.Equal(data, new ReadOnlySpan<byte>((void*)(buf.Vaddr() + (nint)start), n).ToArray());
                    Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.CopyToCpu(buf.Size - n + 1, back)).Error);
                    break;
                case Kind.DeviceIo:
                    DeviceIo(buf, op.B);
                    break;
                case Kind.MmapOpen when !buf.IsUserptr:
                    long length = 1 + (op.B * 997L % buf.Size);
                    var mapping = buf.Mmap(length);
                    Assert.Equal((length + PageSize - 1) / PageSize * PageSize, mapping.MappedLength);
                    _mappings.Add(mapping);
                    Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => buf.Mmap(buf.Size + 1)).Error);
                    break;
                case Kind.MmapOpen:
                    Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => buf.Mmap(1)).Error);
                    break;
            }
        }

        private static void DeviceIo(SgBuffer buf, int seed)
        {
            var device = buf.Device;
            var data = BufferTestArena.Pattern((int)buf.Size, seed);
            if (buf.Direction.DeviceWrites())
            {
                // A camera: prepare, the device writes, finish, the CPU sees the frame.
                buf.Prepare();
                SgBufferDeviceTests.DeviceWrite(device, buf, data);
                buf.Finish();
                var seen = new byte[buf.Size];
                buf.CopyToCpu(0, seen);
                Assert.Equal(data, seen);
            }
            else
            {
                // An encoder: the CPU fills, prepare, the device reads the same bytes.
                buf.CopyFromCpu(0, data);
                buf.Prepare();
                Assert.Equal(data, SgBufferDeviceTests.DeviceRead(device, buf));
                buf.Finish();
            }
        }

        private void Put(Held held)
        {
            var buf = held.Buffer;
            held.OwnerRefs--;
            bool expectFree = held.OwnerRefs == 0 && !_mappings.Any(m => m.Buffer == buf);
            if (buf.IsUserptr)
            {
                var dirty = buf.PutUserptr();
                Assert.Equal(expectFree && buf.Direction.DeviceWrites() ? buf.NumPages : 0, dirty.Count);
                Assert.Equal(!expectFree, buf.UserPages!.IsPinned);
            }
            else
            {
                Assert.Equal(expectFree, buf.Put());
            }

            Assert.Equal(expectFree, buf.IsReleased);
            if (expectFree)
            {
                _buffers.Remove(held);
                Assert.False(buf.HasVaddr);
                Assert.Equal(DmaSgError.UseAfterRelease, Assert.Throws<DmaSgException>(() => buf.Prepare()).Error);
            }
        }

        // The mapping's ref may be the buffer's last one.
        private void Close(UserMapping mapping)
        {
            var buf = mapping.Buffer;
            int usersBefore = buf.NumUsers;
            mapping.Dispose();
            mapping.Dispose();
            Assert.Equal(usersBefore - 1, buf.NumUsers);
            Assert.Equal(usersBefore == 1, buf.IsReleased);
            if (buf.IsReleased)
            {
                _buffers.RemoveAll(h => h.Buffer == buf);
                Assert.False(buf.HasVaddr);
            }
        }

        private sealed class Held(SgBuffer buffer)
        {
            public SgBuffer Buffer { get; } = buffer;

            /// <summary>Refs the test holds directly (the mappings hold the rest).</summary>
            public int OwnerRefs { get; set; } = 1;
        }
    }
}
