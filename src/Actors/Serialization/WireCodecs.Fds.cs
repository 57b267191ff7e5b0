using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Serialization;

// Export as an fd. The requests cross nodes (the buffer refuses a remote holder with a typed reply); the reply
// carries an open fd of the buffer's process and never does.
internal static partial class WireCodecs
{
    private static void AddFds()
    {
        Add<ExportFd>("ef", static (w, m) =>
        {
            w.Ref(m.Holder);
            w.Bool(m.Direction is not null);
            if (m.Direction is { } direction)
            {
                w.Enum(direction);
            }

            w.NullableString(m.Name);
        }, static r => new ExportFd(r.Ref(), r.Bool() ? r.Enum<DmaDirection>() : null, r.NullableString()));
        AddLocalOnly<FdExported>("fe", "an fd belongs to the process that opened it; export on the buffer's node and pass the fd with SCM_RIGHTS (FdChannel)");
        Add<CloseFd>("cf", static (w, m) =>
        {
            w.Long(m.ExportId);
            w.Ref(m.Holder);
        }, static r => new CloseFd(r.Long(), r.Ref()));
        Add<PrepareFd>("pf", static (w, m) => w.Long(m.ExportId), static r => new PrepareFd(r.Long()));
        Add<FinishFd>("ff", static (w, m) => w.Long(m.ExportId), static r => new FinishFd(r.Long()));
        Add<PagesShared>("ps", static (w, m) => w.Ref(m.Buffer), static r => new PagesShared(r.Ref()));
    }
}
