using System.Collections;
using System.Reflection;
using Akka.Actor;
using FsCheck;
using FsCheck.Fluent;

namespace DmaSg.Cluster.Tests.Support;

/// <summary>
/// Generates any DmaSg message by reflection over its constructor: every parameter gets a generated value of
/// its type (numbers over their whole range, Unicode strings, byte arrays, enums, lists, nested records, refs
/// from a given pool, null where the parameter is nullable). New message types are covered without a new generator.
/// </summary>
public sealed class MessageGen(IReadOnlyList<IActorRef> refs)
{
    private static readonly NullabilityInfoContext Nullability = new();

    public Gen<object> For(Type type) => Construct(type, depth: 0);

    private Gen<object> Construct(Type type, int depth)
    {
        ConstructorInfo ctor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
            .OrderByDescending(c => c.GetParameters().Length)
            .First();
        ParameterInfo[] ps = ctor.GetParameters();

        // Settable properties that no constructor parameter covers (init-only extras, option records).
        PropertyInfo[] extra = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic && !ps.Any(c => string.Equals(c.Name, p.Name, StringComparison.OrdinalIgnoreCase)))
            .ToArray();
        Gen<object[]> args = ps.Length == 0 ? Gen.Constant(Array.Empty<object>()) : Gen.CollectToArray(ps, p => Value(p.ParameterType, IsNullable(p), depth + 1));
        Gen<object[]> sets = extra.Length == 0 ? Gen.Constant(Array.Empty<object>()) : Gen.CollectToArray(extra, p => Value(p.PropertyType, IsNullable(p), depth + 1));
        return args.SelectMany(a => sets, (a, v) =>
        {
            object o = ctor.Invoke(a);
            for (int i = 0; i < extra.Length; i++)
            {
                extra[i].SetValue(o, v[i]);
            }

            return o;
        });
    }

    private static bool IsNullable(PropertyInfo p) =>
        Nullable.GetUnderlyingType(p.PropertyType) is not null || Nullability.Create(p).WriteState == NullabilityState.Nullable;

    private static bool IsNullable(ParameterInfo p) =>
        Nullable.GetUnderlyingType(p.ParameterType) is not null || Nullability.Create(p).WriteState == NullabilityState.Nullable;

    private Gen<object> Value(Type t, bool nullable, int depth)
    {
        Gen<object> gen = NonNull(Nullable.GetUnderlyingType(t) ?? t, depth);
        return nullable ? Gen.Frequency((1, Gen.Constant<object>(null!)), (3, gen)) : gen;
    }

    private Gen<object> NonNull(Type t, int depth)
    {
        if (t == typeof(long))
        {
            return Longs.Select(v => (object)v);
        }

        if (t == typeof(int))
        {
            return Gen.Frequency((3, Gen.Choose(-300, 300)), (1, Gen.Choose(int.MinValue, int.MaxValue))).Select(v => (object)v);
        }

        if (t == typeof(nint))
        {
            return Longs.Select(v => (object)(nint)v);
        }

        if (t == typeof(TimeSpan))
        {
            return Longs.Select(v => (object)TimeSpan.FromTicks(v));
        }

        if (t == typeof(bool))
        {
            return Gen.Elements(true, false).Select(v => (object)v);
        }

        if (t == typeof(string))
        {
            return Strings.Select(v => (object)v);
        }

        if (t == typeof(byte[]))
        {
            return Gen.Choose(0, 300).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n)).Select(v => (object)v);
        }

        if (t.IsEnum)
        {
            return Gen.Elements(Enum.GetValues(t).Cast<object>().ToArray());
        }

        if (typeof(IActorRef).IsAssignableFrom(t))
        {
            return Gen.Elements(refs.Cast<object>().ToArray());
        }

        Type? element = t.IsArray ? t.GetElementType()
            : t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? t.GetGenericArguments()[0]
            : null;
        if (element is not null)
        {
            // Nested lists stay short so a whole inspection stays small.
            int max = depth > 2 ? 2 : 5;
            Gen<object> item = NonNull(element, depth + 1);
            return Gen.Choose(0, max).SelectMany(n => Gen.ArrayOf(item, n)).Select(items =>
            {
                var array = Array.CreateInstance(element, items.Length);
                for (int i = 0; i < items.Length; i++)
                {
                    array.SetValue(items[i], i);
                }

                return (object)array;
            });
        }

        return Construct(t, depth);
    }

    private static Gen<long> Longs => Gen.Frequency(
        (3, Gen.Choose(-1000, 1_000_000).Select(v => (long)v)),
        (2, Gen.Choose(int.MinValue, int.MaxValue).Two().Select(p => ((long)p.Item1 << 32) | (uint)p.Item2)),
        (1, Gen.Elements(long.MinValue, long.MaxValue, 0L, -1L)));

    private static Gen<string> Strings => Gen.Choose(0, 24).SelectMany(n => Gen.ArrayOf(
        Gen.Frequency(
            (6, Gen.Choose('a', 'z')),
            (1, Gen.Choose(0x20, 0x7E)),
            (1, Gen.Choose(0x80, 0x7FF)),
            (1, Gen.Choose(0x800, 0xD7FF))).Select(c => (char)c), n)).Select(cs => new string(cs));
}

/// <summary>Structural equality over records, lists and arrays (records compare lists by reference).</summary>
public static class Deep
{
    public static void AssertEqual(object? expected, object? actual, string path = "message")
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: {expected ?? "null"} != {actual ?? "null"}");
            return;
        }

        Type t = expected.GetType();
        Assert.True(t == actual.GetType(), $"{path}: {t.Name} != {actual.GetType().Name}");
        if (t.IsPrimitive || t.IsEnum || expected is string or IActorRef || t == typeof(nint))
        {
            Assert.True(expected.Equals(actual), $"{path}: {expected} != {actual}");
            return;
        }

        if (expected is IEnumerable e)
        {
            object[] xs = e.Cast<object>().ToArray();
            object[] ys = ((IEnumerable)actual).Cast<object>().ToArray();
            Assert.True(xs.Length == ys.Length, $"{path}: {xs.Length} items != {ys.Length}");
            for (int i = 0; i < xs.Length; i++)
            {
                AssertEqual(xs[i], ys[i], $"{path}[{i}]");
            }

            return;
        }

        foreach (PropertyInfo p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            AssertEqual(p.GetValue(expected), p.GetValue(actual), $"{path}.{p.Name}");
        }
    }
}
