"""A GeNN 5 compatible model API with its own code-generating backends.

The names, signatures and semantics follow pygenn 5, so that code written against
this module runs unchanged on a real pygenn installation (``backend="genn"``).
"""
from .code import CodeError
from .model import (CurrentSource, CustomUpdate, ExtraGlobalParameter, GeNNModel, NeuronGroup,
                    SynapseGroup, SynapseVariable, Variable)
from .spec import (CustomUpdateVarAccess, SynapseMatrixType, VarAccess, VarAccessMode,
                   create_current_source_model, create_custom_update_model,
                   create_egp_ref, create_neuron_model, create_out_post_var_ref,
                   create_postsynaptic_model, create_psm_egp_ref, create_psm_var_ref,
                   create_var_init_snippet, create_var_ref, create_weight_update_model,
                   create_wu_egp_ref, create_wu_post_var_ref, create_wu_pre_var_ref,
                   create_wu_var_ref, init_postsynaptic, init_sparse_connectivity, init_var,
                   init_weight_update)
from .backends.cpu import CompileError

__all__ = [
    "CodeError", "CompileError", "CurrentSource", "CustomUpdate", "CustomUpdateVarAccess",
    "ExtraGlobalParameter", "GeNNModel", "NeuronGroup", "SynapseGroup", "SynapseMatrixType",
    "SynapseVariable", "VarAccess", "VarAccessMode", "Variable",
    "create_current_source_model", "create_custom_update_model", "create_egp_ref",
    "create_neuron_model", "create_out_post_var_ref", "create_postsynaptic_model",
    "create_psm_egp_ref", "create_psm_var_ref", "create_var_init_snippet", "create_var_ref",
    "create_weight_update_model", "create_wu_egp_ref", "create_wu_post_var_ref",
    "create_wu_pre_var_ref", "create_wu_var_ref", "init_postsynaptic",
    "init_sparse_connectivity", "init_var", "init_weight_update",
]
