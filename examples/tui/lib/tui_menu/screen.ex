defmodule TuiMenu.Screen do
  @moduledoc "Drawing with ANSI escape sequences on the alternate screen."

  def enter, do: IO.write("\e[?1049h\e[?25l")

  def leave, do: IO.write("\e[?25h\e[?1049l")

  def size do
    with {:ok, columns} <- :io.columns(), {:ok, rows} <- :io.rows() do
      {columns, rows}
    else
      _ -> {80, 24}
    end
  end

  def draw(items, %{cursor: cursor, selected: selected, size: {columns, rows}}) do
    lines =
      items
      |> Enum.with_index()
      |> Enum.map(fn
        {item, ^cursor} -> ["\e[7m> ", item, " \e[0m"]
        {item, _} -> ["  ", item]
      end)

    picked = if selected, do: "Selected: #{Enum.at(items, selected)}", else: "Nothing selected"
    footer = String.slice("#{columns}x#{rows}  Up/Down move, Enter select, q quit", 0, columns)

    IO.write([
      "\e[H\e[2J",
      "Pick a fruit\n\n",
      Enum.intersperse(lines, "\n"),
      "\n\n",
      picked,
      "\e[#{rows};1H",
      footer
    ])
  end
end
