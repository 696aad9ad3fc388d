using Microsoft.Data.Sqlite;

namespace Herald.Sqlite.Internal;

/// <summary>Prepared statements: created once per connection with their parameters, then only re-bound and run.</summary>
internal static class Statements
{
    public static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        return command;
    }

    /// <summary>Binds <paramref name="values"/> to the statement's parameters, in the order they were declared.</summary>
    public static SqliteCommand Bind(this SqliteCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }
        return command;
    }
}
