[
  inputs: [
    "{mix,.formatter}.exs",
    "{config,lib,test}/**/*.{ex,exs}",
    "examples/*/{mix,.formatter}.exs",
    "examples/*/{lib,test}/**/*.{ex,exs}"
  ]
]
