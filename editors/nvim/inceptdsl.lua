-- inceptdsl for Neovim 0.7 and later: the `.incept` filetype and the language server
-- (`inceptdsl lsp`: diagnostics, hover, go to definition, completion, formatting).
-- Copy into your init.lua, or `dofile("/path/to/editors/nvim/inceptdsl.lua")` from it.
-- Set the command to the full path when inceptdsl is not on PATH (e.g. in a virtualenv):
--   vim.g.inceptdsl_cmd = { "/path/to/.venv/bin/inceptdsl", "lsp" }

vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
  pattern = "*.incept",
  command = "setfiletype incept",
})

local clients = {} -- 0.7: one client per project root, attached to each buffer

vim.api.nvim_create_autocmd("FileType", {
  pattern = "incept",
  callback = function(args)
    local cmd = vim.g.inceptdsl_cmd or { "inceptdsl", "lsp" }
    local root = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(args.buf), ":p:h")
    local config = { name = "inceptdsl", cmd = cmd, root_dir = root }
    if vim.lsp.start then -- Neovim >= 0.8 (0.10 and later)
      vim.lsp.start(config, { bufnr = args.buf })
    else -- Neovim 0.7 (Debian 12): start_client once per root, then attach
      clients[root] = clients[root] or vim.lsp.start_client(config)
      vim.lsp.buf_attach_client(args.buf, clients[root])
    end
  end,
})
